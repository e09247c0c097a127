using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TimingBased.Benchmarks.Baselines;
using TimingBased.Neurons;
using TimingBased.Optimizers;

namespace TimingBased.Benchmarks;

/// <summary>W3: one training step (forward, MseLoss, gradient, SGD) of a Tempotron (12544, 10, T = 100) on 64 digits.</summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class TrainingBenchmarks
{
    private const int M = 16;
    private const int T = 100;
    private const int Out = 10;
    private TempotronTrainer _trainer = null!;
    private DenseTempotron _dense = null!;
    private float[] _denseGradient = null!;
    private float[] _spikes = null!;
    private int[] _labels = null!;

    /// <summary>Images in the batch.</summary>
    [Params(64)]
    public int Batch { get; set; }

    /// <summary>Encodes real digits and builds both implementations with the same weights.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (pixels, labels) = BenchData.Digits(Batch);
        _labels = labels;
        _spikes = BenchData.Encode(pixels, Batch, M, T);
        var model = new Tempotron(BenchData.Pixels * M, Out, T, seed: 1);
        var w = new float[model.WeightCount];
        model.CopyWeightsTo(w);
        _dense = new DenseTempotron(BenchData.Pixels * M, Out, T, w);
        _denseGradient = new float[w.Length];
        _trainer = new TempotronTrainer(model, new Sgd(1e-3f));
    }

    /// <summary>SpikingJelly's dense forward plus the dense gradient autograd computes, then SGD.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("W3 training step")]
    public float Dense() => _dense.TrainStep(_spikes, _labels, _denseGradient, 1e-3f);

    /// <summary>The library's event-driven training step.</summary>
    [Benchmark, BenchmarkCategory("W3 training step")]
    public float EventDriven() => _trainer.Step(_spikes, _labels).Loss;
}
