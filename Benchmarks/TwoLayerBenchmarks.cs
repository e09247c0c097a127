using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TimingBased.Benchmarks.Baselines;
using TimingBased.Neurons;

namespace TimingBased.Benchmarks;

/// <summary>
/// W5: two layers, Tempotron (12544, 100, T) → SpikeTimes → Tempotron (100, 10, T) → MaxVoltage → MseLoss, then
/// backward through both layers, batch 64 digits, against SpikingJelly's dense algorithm for the same two layers in
/// plain C# (<see cref="DenseTwoLayer"/>, same weights; the setup checks that both give the same gradients).
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
    private TempotronTape _tape1 = null!;
    private TempotronTape _tape2 = null!;
    private DenseTwoLayer _dense = null!;
    private float[] _denseDW1 = null!;
    private float[] _denseDW2 = null!;

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
        var w1 = new float[_l1.WeightCount];
        var w2 = new float[_l2.WeightCount];
        _l1.CopyWeightsTo(w1);
        _l2.CopyWeightsTo(w2);
        _dense = new DenseTwoLayer(new DenseTempotron(BenchData.Pixels * M, Hidden, T, w1), new DenseTempotron(Hidden, Out, T, w2));
        _denseDW1 = new float[_l1.WeightCount];
        _denseDW2 = new float[_l2.WeightCount];

        _tape1 = new TempotronTape();
        _tape2 = new TempotronTape();

        // Both implementations compute the same thing: compare both weight gradients (and the tapes' with the plain calls').
        EventDriven();
        Dense();
        CheckClose(_dW2, _denseDW2, "output-layer gradient");
        CheckClose(_dW1, _denseDW1, "hidden-layer gradient");
        EventDrivenWithTapes();
        CheckClose(_dW2, _denseDW2, "output-layer gradient (tapes)");
        CheckClose(_dW1, _denseDW1, "hidden-layer gradient (tapes)");
    }

    /// <summary>SpikingJelly's dense algorithm for both layers in plain C# (forward, MSE, the dense backward autograd computes).</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("W5 two layers, forward + backward")]
    public float Dense() => _dense.ForwardBackward(_x, _labels, _denseDW1, _denseDW2);

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

    /// <summary>The same chain with each forward recorded on a <see cref="TempotronTape"/>, so neither backward runs its forward again.</summary>
    [Benchmark, BenchmarkCategory("W5 two layers, forward + backward")]
    public float EventDrivenWithTapes()
    {
        _l1.SpikeTimes(_tape1, _x, Batch, _s1);
        _l2.MaxVoltage(_tape2, _s1, Batch, _vmax);
        var loss = _l2.LossBackward(_vmax, _labels, _dv);
        _l2.MaxVoltageBackward(_tape2, _dv, _dW2, _dS1);
        _l1.SpikeTimesBackward(_tape1, _dS1, _dW1, []);
        return loss;
    }

    private static void CheckClose(float[] actual, float[] expected, string what)
    {
        double norm = 0, diff = 0;
        for (var k = 0; k < actual.Length; k++)
        {
            norm += (double)expected[k] * expected[k];
            diff += ((double)actual[k] - expected[k]) * ((double)actual[k] - expected[k]);
        }

        if (diff > 1e-6 * Math.Max(norm, 1e-30))
        {
            throw new InvalidOperationException($"W5: the library's {what} differs from the dense baseline's (relative squared error {diff / Math.Max(norm, 1e-30):G3}, norm {norm:G3}).");
        }

        Console.WriteLine($"// W5 check: {what} matches the dense baseline (relative squared error {diff / Math.Max(norm, 1e-30):G3}, norm {norm:G3})");
    }
}
