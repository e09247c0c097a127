using BenchmarkDotNet.Attributes;
using TimingBased.Neurons;
using TimingBased.Neurons.Kernels;
using TimingBased.Optimizers;

namespace TimingBased.Benchmarks;

/// <summary>
/// Each kernel variant against its simpler sibling, in one run: <see cref="Variant"/> names a switch of
/// <see cref="KernelVariants"/> and the workload that justifies it, and <see cref="On"/> <c>false</c> runs the sibling.
/// A variant stays only while it pays at least 5 % on its own workload (docs/performance.md, "Variants").
/// </summary>
/// <remarks>
/// The workloads are the suite's: W3, one training step of a Tempotron (12544, 10, T = 100) on 64 digits with SGD at
/// learning rate 0 (as <see cref="TrainingBenchmarks"/>); W5F, the hidden layer's forward of W5, <c>SpikeTimes</c> of
/// a Tempotron (12544, 100, T = 100) on the same digits; W5, that layer and a Tempotron (100, 10, T = 100) forward with
/// tapes, the MSE loss and both backwards (as <see cref="TwoLayerBenchmarks"/>' tape case). Both paths of every variant
/// give the same bits (tested).
/// </remarks>
[MemoryDiagnoser]
public class VariantBenchmarks
{
    private const int M = 16;
    private const int T = 100;
    private TempotronTrainer _trainer = null!;
    private Tempotron _hidden = null!;
    private float[] _spikes = null!;
    private int[] _labels = null!;
    private float[] _hiddenTimes = null!;
    private Tempotron _output = null!;
    private TempotronTape _hiddenTape = null!;
    private TempotronTape _outputTape = null!;
    private float[] _vmax = null!;
    private float[] _dv = null!;
    private float[] _dHidden = null!;
    private float[] _dWHidden = null!;
    private float[] _dWOutput = null!;

    /// <summary>A variant and its workload.</summary>
    public enum VariantCase
    {
        /// <summary><see cref="KernelVariants.PackedLists"/> on W3.</summary>
        PackedListsW3,

        /// <summary><see cref="KernelVariants.Tiles"/> on W3 (a one-tile layer, grouped in pairs).</summary>
        TilesW3,

        /// <summary><see cref="KernelVariants.Tiles"/> on W5F (a seven-tile layer, grouped by 16).</summary>
        TilesW5F,

        /// <summary><see cref="KernelVariants.Pairs"/> on W3.</summary>
        PairsW3,

        /// <summary><see cref="KernelVariants.Pairs"/> on W5F.</summary>
        PairsW5F,

        /// <summary><see cref="KernelVariants.Adds512"/> on W3.</summary>
        Adds512W3,

        /// <summary><see cref="KernelVariants.Adds512"/> on W5F.</summary>
        Adds512W5F,

        /// <summary><see cref="KernelVariants.MaskedCommit"/> on W3 at two threads.</summary>
        MaskedCommitW3TwoThreads,

        /// <summary><see cref="KernelVariants.Collect128"/> on W3 with the kernels held to 128-bit vectors.</summary>
        Collect128W3On128,

        /// <summary><see cref="KernelVariants.LiveOutputs"/> on W5 with tapes (the hidden layer's public backward).</summary>
        LiveOutputsW5,
    }

    /// <summary>Images in the batch (for the per-sample column).</summary>
    [Params(64)]
    public int Batch { get; set; }

    /// <summary>The variant and its workload.</summary>
    [ParamsAllValues]
    public VariantCase Variant { get; set; }

    /// <summary>Whether the variant is on (<c>false</c>: its simpler sibling).</summary>
    [Params(true, false)]
    public bool On { get; set; }

    /// <summary>Sets the switch and builds the workload.</summary>
    [GlobalSetup]
    public void Setup()
    {
        KernelVariants.Reset();
        Switch(Variant, On);
        var (pixels, labels) = BenchData.Digits(Batch);
        _labels = labels;
        _spikes = BenchData.Encode(pixels, Batch, M, T);
        var threads = Variant == VariantCase.MaskedCommitW3TwoThreads ? 2 : 1;
        var model = new Tempotron(BenchData.Pixels * M, 10, T, seed: 1) { MaxDegreeOfParallelism = threads };
        if (Variant == VariantCase.Collect128W3On128)
        {
            model.Path = KernelPath.Vector128;
        }

        _trainer = new TempotronTrainer(model, new Sgd(0f));
        _hidden = new Tempotron(BenchData.Pixels * M, 100, T, seed: 1) { MaxDegreeOfParallelism = 1 };
        _hiddenTimes = new float[Batch * 100];
        _output = new Tempotron(100, 10, T, seed: 2);
        _hiddenTape = new TempotronTape();
        _outputTape = new TempotronTape();
        _vmax = new float[Batch * 10];
        _dv = new float[Batch * 10];
        _dHidden = new float[Batch * 100];
        _dWHidden = new float[_hidden.WeightCount];
        _dWOutput = new float[_output.WeightCount];
    }

    /// <summary>Turns every switch back on.</summary>
    [GlobalCleanup]
    public void Cleanup() => KernelVariants.Reset();

    /// <summary>The variant's workload.</summary>
    [Benchmark]
    public float Run()
    {
        if (Variant is VariantCase.TilesW5F or VariantCase.PairsW5F or VariantCase.Adds512W5F)
        {
            _hidden.SpikeTimes(_spikes, Batch, _hiddenTimes);
            return _hiddenTimes[0];
        }

        if (Variant == VariantCase.LiveOutputsW5)
        {
            _hidden.SpikeTimes(_hiddenTape, _spikes, Batch, _hiddenTimes);
            _output.MaxVoltage(_outputTape, _hiddenTimes, Batch, _vmax);
            var loss = _output.LossBackward(_vmax, _labels, _dv);
            _output.MaxVoltageBackward(_outputTape, _dv, _dWOutput, _dHidden);
            _hidden.SpikeTimesBackward(_hiddenTape, _dHidden, _dWHidden, []);
            return loss;
        }

        return _trainer.Step(_spikes, _labels).Loss;
    }

    private static void Switch(VariantCase variant, bool on)
    {
        switch (variant)
        {
            case VariantCase.PackedListsW3:
                KernelVariants.PackedLists = on;
                break;
            case VariantCase.TilesW3 or VariantCase.TilesW5F:
                KernelVariants.Tiles = on;
                break;
            case VariantCase.PairsW3 or VariantCase.PairsW5F:
                KernelVariants.Pairs = on;
                break;
            case VariantCase.Adds512W3 or VariantCase.Adds512W5F:
                KernelVariants.Adds512 = on;
                break;
            case VariantCase.MaskedCommitW3TwoThreads:
                KernelVariants.MaskedCommit = on;
                break;
            case VariantCase.Collect128W3On128:
                KernelVariants.Collect128 = on;
                break;
            case VariantCase.LiveOutputsW5:
                KernelVariants.LiveOutputs = on;
                break;
        }
    }
}
