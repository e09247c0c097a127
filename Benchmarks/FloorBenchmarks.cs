using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace TimingBased.Benchmarks;

/// <summary>
/// Floors: the memory traffic a perfect implementation of W1–W3 cannot avoid, measured on this machine in the
/// same run. See docs/performance.md for how they combine into a floor per workload.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class FloorBenchmarks
{
    private const int M = 16;
    private const int T = 100;
    private float[] _spikes = null!;
    private float[] _output = null!;
    private float[] _weights = null!;
    private int[] _spikeRows = null!;

    /// <summary>Images in the batch.</summary>
    [Params(64)]
    public int Batch { get; set; }

    /// <summary>Encodes the W2 inputs and lists every spike's weight row.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _spikes = BenchData.Encode(BenchData.Digits(Batch).Pixels, Batch, M, T);
        _output = new float[_spikes.Length];
        _weights = new float[BenchData.Pixels * M * 16];
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

    /// <summary>Write W1's output once: 64 x 784 x 16 floats.</summary>
    [Benchmark, BenchmarkCategory("Floor: W1 output write")]
    public float WriteEncoderOutput()
    {
        _output.AsSpan().Fill(-1f);
        return _output[^1];
    }

    /// <summary>Read W2's input once: 64 x 12544 spike times (a perfect forward must look at each).</summary>
    [Benchmark, BenchmarkCategory("Floor: W2 input read")]
    public float ReadForwardInput() => TensorPrimitives.Sum(_spikes);

    /// <summary>Read the weight row (16 floats, one cache line) of every spike of the batch once.</summary>
    [Benchmark, BenchmarkCategory("Floor: W2 weight rows")]
    public float GatherSpikeWeightRows()
    {
        ref var w = ref MemoryMarshal.GetArrayDataReference(_weights);
        var acc = Vector<float>.Zero;
        foreach (var row in _spikeRows)
        {
            acc += Vector.LoadUnsafe(ref w, (nuint)(row * 16)) + Vector.LoadUnsafe(ref w, (nuint)((row * 16) + 8));
        }

        return Vector.Sum(acc);
    }
}
