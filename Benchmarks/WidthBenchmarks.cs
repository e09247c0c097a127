using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using TimingBased.Neurons;
using TimingBased.Optimizers;

namespace TimingBased.Benchmarks;

/// <summary>
/// The width sweep (issue 18): forward <c>MaxVoltage</c> and the training step at <c>in = 12544</c> (64 real digits,
/// m = 16, T = 100) for <c>out</c> in {10, 32, 100, 256, 1024}, each next to its floor: the dense input and the weight
/// rows the spikes must touch (forward: read the 3.2 MB input once and each spike's row of <c>outStride</c> floats once;
/// step: that, plus one read-add-write of each spike's gradient row).
/// </summary>
[MemoryDiagnoser]
public class WidthBenchmarks
{
    private const int M = 16;
    private const int T = 100;
    private Tempotron _model = null!;
    private TempotronTrainer _trainer = null!;
    private float[] _spikes = null!;
    private int[] _labels = null!;
    private float[] _vMax = null!;
    private float[] _rows = null!;
    private float[] _gradientRows = null!;
    private int[] _spikeRows = null!;
    private int _stride;

    /// <summary>Outputs of the layer.</summary>
    [Params(10, 32, 100, 256, 1024)]
    public int Out { get; set; }

    /// <summary>Images in the batch.</summary>
    [Params(64)]
    public int Batch { get; set; }

    /// <summary>Encodes the digits, builds the layer and lists every spike's weight row for the floors.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (pixels, labels) = BenchData.Digits(Batch);
        _labels = labels;
        _spikes = BenchData.Encode(pixels, Batch, M, T);
        _model = new Tempotron(BenchData.Pixels * M, Out, T, seed: 1);
        _trainer = new TempotronTrainer(_model, new Sgd(0f)); // learning rate 0: every step times the same state
        _vMax = new float[Batch * Out];
        _stride = (Out + 7) / 8 * 8; // the model's row stride on 256-bit Vector<float>: whole vectors
        _rows = new float[BenchData.Pixels * M * _stride];
        _gradientRows = new float[_rows.Length];
        new Random(1).NextBytes(MemoryMarshal.AsBytes(_rows.AsSpan()));
        for (var k = 0; k < _rows.Length; k++)
        {
            _rows[k] = float.IsFinite(_rows[k]) ? _rows[k] % 1f : 0f;
        }

        var rows = new List<int>();
        for (var k = 0; k < _spikes.Length; k++)
        {
            if (_spikes[k] >= 0)
            {
                rows.Add(k % (BenchData.Pixels * M));
            }
        }

        _spikeRows = [.. rows];
    }

    /// <summary>The forward.</summary>
    [Benchmark]
    public float Forward()
    {
        _model.MaxVoltage(_spikes, Batch, _vMax);
        return _vMax[0];
    }

    /// <summary>The training step (forward, MSE, gradient, SGD at learning rate 0).</summary>
    [Benchmark]
    public float Step() => _trainer.Step(_spikes, _labels).Loss;

    /// <summary>Floor of the forward: read the input and every spike's weight row once.</summary>
    [Benchmark]
    public float FloorForward() => TensorPrimitives.Sum(_spikes) + ReadRows();

    /// <summary>Floor of the step: the forward's reads, then one read-add-write of every spike's gradient row.</summary>
    [Benchmark]
    public float FloorStep()
    {
        var sum = FloorForward();
        ref var g = ref MemoryMarshal.GetArrayDataReference(_gradientRows);
        var add = Vector256.Create(1e-30f);
        foreach (var row in _spikeRows)
        {
            ref var r = ref Unsafe.Add(ref g, row * _stride);
            for (var j = 0; j < _stride; j += 8)
            {
                (Vector256.LoadUnsafe(ref r, (nuint)j) + add).StoreUnsafe(ref r, (nuint)j);
            }
        }

        return sum + _gradientRows[0];
    }

    private float ReadRows()
    {
        ref var w = ref MemoryMarshal.GetArrayDataReference(_rows);
        var a = Vector256<float>.Zero;
        var b = Vector256<float>.Zero;
        foreach (var row in _spikeRows)
        {
            ref var r = ref Unsafe.Add(ref w, row * _stride);
            var j = 0;
            for (; j + 16 <= _stride; j += 16)
            {
                a += Vector256.LoadUnsafe(ref r, (nuint)j);
                b += Vector256.LoadUnsafe(ref r, (nuint)(j + 8));
            }

            if (j < _stride)
            {
                a += Vector256.LoadUnsafe(ref r, (nuint)j);
            }
        }

        return Vector256.Sum(a + b);
    }
}
