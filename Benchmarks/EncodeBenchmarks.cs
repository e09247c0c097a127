using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TimingBased.Encoding;

namespace TimingBased.Benchmarks;

/// <summary>W1: encode a batch of 64 MNIST digits, m = 16, maxSpikeTime = 100 (and uniform random values for contrast).</summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class EncodeBenchmarks
{
    private const int M = 16;
    private const int MaxSpikeTime = 100;
    private GaussianTuning _encoder = null!;
    private float[] _x = null!;
    private float[] _random = null!;
    private float[] _mu = null!;
    private float[] _twoSigma2 = null!;
    private float[] _destination = null!;

    /// <summary>Images in the batch.</summary>
    [Params(64)]
    public int Batch { get; set; }

    /// <summary>Builds the encoder, loads real digits, and seeded uniform values.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _encoder = new GaussianTuning(1, M, [0f], [1f]);
        _x = BenchData.Digits(Batch).Pixels;
        var rng = new Random(43);
        _random = new float[_x.Length];
        for (var i = 0; i < _random.Length; i++)
        {
            _random[i] = rng.NextSingle();
        }

        _mu = _encoder.Mu.ToArray();
        _twoSigma2 = new float[M];
        for (var j = 0; j < M; j++)
        {
            _twoSigma2[j] = 2 * _encoder.Sigma2[j];
        }

        _destination = new float[_x.Length * M];
    }

    /// <summary>The plain scalar loop: one MathF.Exp per value and neuron.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("W1 encode digits")]
    public float ScalarDigits() => Scalar(_x);

    /// <summary>The library's encoder.</summary>
    [Benchmark, BenchmarkCategory("W1 encode digits")]
    public float EncodeDigits()
    {
        _encoder.Encode(_x, Batch, MaxSpikeTime, _destination);
        return _destination[^1];
    }

    /// <summary>The plain scalar loop on uniform random values (no repeated background).</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("W1 encode uniform")]
    public float ScalarUniform() => Scalar(_random);

    /// <summary>The library's encoder on uniform random values.</summary>
    [Benchmark, BenchmarkCategory("W1 encode uniform")]
    public float EncodeUniform()
    {
        _encoder.Encode(_random, Batch, MaxSpikeTime, _destination);
        return _destination[^1];
    }

    private float Scalar(float[] x)
    {
        var dst = _destination;
        var mu = _mu;
        var den = _twoSigma2;
        const float tMax = MaxSpikeTime;
        for (var s = 0; s < x.Length; s++)
        {
            for (var j = 0; j < M; j++)
            {
                var d = x[s] - mu[j];
                var t = MathF.Round(tMax * (1f - MathF.Exp(-((d * d) / den[j]))));
                dst[(s * M) + j] = t >= tMax ? -1f : t;
            }
        }

        return dst[^1];
    }
}
