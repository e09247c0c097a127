using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TimingBased.Benchmarks.Baselines;
using TimingBased.Neurons;

namespace TimingBased.Benchmarks;

/// <summary>W2: MaxVoltage of a Tempotron (12544, 10, T = 100) on 64 encoded MNIST digits.</summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ForwardBenchmarks
{
    private const int M = 16;
    private const int T = 100;
    private const int Out = 10;
    private Tempotron _tempotron = null!;
    private DenseTempotron _dense = null!;
    private float[] _spikes = null!;
    private float[] _vmax = null!;

    /// <summary>Images in the batch.</summary>
    [Params(64)]
    public int Batch { get; set; }

    /// <summary>The library's <see cref="Tempotron.MaxDegreeOfParallelism"/> (the dense baseline is single-threaded).</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Encodes seeded digit-like images and builds both implementations with the same weights.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _spikes = BenchData.Encode(BenchData.Digits(Batch).Pixels, Batch, M, T);
        _tempotron = new Tempotron(BenchData.Pixels * M, Out, T, seed: 1) { MaxDegreeOfParallelism = Threads };
        var w = new float[_tempotron.WeightCount];
        _tempotron.CopyWeightsTo(w);
        _dense = new DenseTempotron(BenchData.Pixels * M, Out, T, w);
        _vmax = new float[Batch * Out];
    }

    /// <summary>SpikingJelly's dense algorithm in plain C#.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("W2 forward MaxVoltage")]
    public float Dense()
    {
        _dense.MaxVoltage(_spikes, Batch, _vmax);
        return _vmax[0];
    }

    /// <summary>The library's event-driven forward.</summary>
    [Benchmark, BenchmarkCategory("W2 forward MaxVoltage")]
    public float EventDriven()
    {
        _tempotron.MaxVoltage(_spikes, Batch, _vmax);
        return _vmax[0];
    }
}
