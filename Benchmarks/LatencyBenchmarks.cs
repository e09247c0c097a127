using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TimingBased.Benchmarks.Baselines;
using TimingBased.Encoding;
using TimingBased.Neurons;

namespace TimingBased.Benchmarks;

/// <summary>W4: latency of one image, encode (m = 16, T = 100) + MaxVoltage of a Tempotron (12544, 10, T = 100).</summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class LatencyBenchmarks
{
    private const int M = 16;
    private const int T = 100;
    private const int Out = 10;
    private GaussianTuning _encoder = null!;
    private Tempotron _tempotron = null!;
    private DenseTempotron _dense = null!;
    private float[] _pixels = null!;
    private float[] _spikes = null!;
    private float[] _vmax = null!;

    /// <summary>One image.</summary>
    [Params(1)]
    public int Batch { get; set; }

    /// <summary>Loads one digit and builds both implementations with the same weights.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _pixels = BenchData.Digits(1).Pixels;
        _encoder = new GaussianTuning(1, M, [0f], [1f]);
        _tempotron = new Tempotron(BenchData.Pixels * M, Out, T, seed: 1);
        var w = new float[_tempotron.WeightCount];
        _tempotron.CopyWeightsTo(w);
        _dense = new DenseTempotron(BenchData.Pixels * M, Out, T, w);
        _spikes = new float[BenchData.Pixels * M];
        _vmax = new float[Out];
    }

    /// <summary>The library's encoder, then SpikingJelly's dense forward in plain C#.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("W4 latency, one image")]
    public float Dense()
    {
        _encoder.Encode(_pixels, 1, T, _spikes);
        _dense.MaxVoltage(_spikes, 1, _vmax);
        return _vmax[0];
    }

    /// <summary>The library's encoder and event-driven forward.</summary>
    [Benchmark, BenchmarkCategory("W4 latency, one image")]
    public float EventDriven()
    {
        _encoder.Encode(_pixels, 1, T, _spikes);
        _tempotron.MaxVoltage(_spikes, 1, _vmax);
        return _vmax[0];
    }
}
