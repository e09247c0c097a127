using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TimingBased.Benchmarks.Baselines;
using TimingBased.Neurons;
using TimingBased.Optimizers;

namespace TimingBased.Benchmarks;

/// <summary>
/// W3: one training step (forward, MseLoss, gradient, SGD) of a Tempotron (12544, 10, T = 100) on 64 digits.
/// </summary>
/// <remarks>
/// SGD runs with learning rate 0: the update is computed and written over every weight as usual, but the weights
/// stay at their initialisation, so every invocation measures the same state, one in which every sample has a
/// gradient. With a positive rate the model would memorise the 64 digits within a few hundred steps, after which
/// every sample's gradient is zero and the library skips its backward: the benchmark would then time a cheaper
/// step than real training does. The dense baseline gets the same rate and does the same work either way.
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class TrainingBenchmarks
{
    private const int M = 16;
    private const int T = 100;
    private const int Out = 10;
    private const float LearningRate = 0f;
    private TempotronTrainer _trainer = null!;
    private DenseTempotron _dense = null!;
    private float[] _denseGradient = null!;
    private float[] _spikes = null!;
    private int[] _labels = null!;

    /// <summary>Images in the batch.</summary>
    [Params(64)]
    public int Batch { get; set; }

    /// <summary>The library's <see cref="Tempotron.MaxDegreeOfParallelism"/> (the dense baseline is single-threaded).</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Encodes real digits and builds both implementations with the same weights.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (pixels, labels) = BenchData.Digits(Batch);
        _labels = labels;
        _spikes = BenchData.Encode(pixels, Batch, M, T);
        var model = new Tempotron(BenchData.Pixels * M, Out, T, seed: 1) { MaxDegreeOfParallelism = Threads };
        var w = new float[model.WeightCount];
        model.CopyWeightsTo(w);
        _dense = new DenseTempotron(BenchData.Pixels * M, Out, T, w);
        _denseGradient = new float[w.Length];
        _trainer = new TempotronTrainer(model, new Sgd(LearningRate));
    }

    /// <summary>SpikingJelly's dense forward plus the dense gradient autograd computes, then SGD.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("W3 training step")]
    public float Dense() => _dense.TrainStep(_spikes, _labels, _denseGradient, LearningRate);

    /// <summary>The library's event-driven training step.</summary>
    [Benchmark, BenchmarkCategory("W3 training step")]
    public float EventDriven() => _trainer.Step(_spikes, _labels).Loss;
}
