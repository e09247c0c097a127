using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TimingBased.Neurons;

namespace TimingBased.Benchmarks;

/// <summary>
/// W5: two layers, Tempotron (12544, 100, T) → SpikeTimes → Tempotron (100, 10, T) → MaxVoltage → MseLoss, then
/// backward through both layers, batch 64 digits. No dense baseline: see docs/performance.md.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class TwoLayerBenchmarks
{
    private const int M = 16;
    private const int T = 100;
    private const int Hidden = 100;
    private const int Out = 10;
    private Tempotron _l1 = null!;
    private Tempotron _l2 = null!;
    private float[] _x = null!;
    private int[] _labels = null!;
    private float[] _s1 = null!;
    private float[] _vmax = null!;
    private float[] _dv = null!;
    private float[] _dW1 = null!;
    private float[] _dW2 = null!;
    private float[] _dS1 = null!;

    /// <summary>Images in the batch.</summary>
    [Params(64)]
    public int Batch { get; set; }

    /// <summary>The library's <see cref="Tempotron.MaxDegreeOfParallelism"/> (the dense baseline is single-threaded).</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Encodes real digits and builds the two layers.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (pixels, labels) = BenchData.Digits(Batch);
        _labels = labels;
        _x = BenchData.Encode(pixels, Batch, M, T);
        _l1 = new Tempotron(BenchData.Pixels * M, Hidden, T, seed: 1) { MaxDegreeOfParallelism = Threads };
        _l2 = new Tempotron(Hidden, Out, T, seed: 2) { MaxDegreeOfParallelism = Threads };
        _s1 = new float[Batch * Hidden];
        _vmax = new float[Batch * Out];
        _dv = new float[Batch * Out];
        _dW1 = new float[_l1.WeightCount];
        _dW2 = new float[_l2.WeightCount];
        _dS1 = new float[Batch * Hidden];
    }

    /// <summary>Forward through both layers, loss, backward through both layers.</summary>
    [Benchmark, BenchmarkCategory("W5 two layers, forward + backward")]
    public float EventDriven()
    {
        _l1.SpikeTimes(_x, Batch, _s1);
        _l2.MaxVoltage(_s1, Batch, _vmax);
        var loss = _l2.LossBackward(_vmax, _labels, _dv);
        _l2.MaxVoltageBackward(_s1, Batch, _dv, _dW2, _dS1);
        _l1.SpikeTimesBackward(_x, Batch, _dS1, _dW1, []);
        return loss;
    }
}
