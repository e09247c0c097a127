using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TimingBased.Neurons;

namespace TimingBased.Benchmarks;

/// <summary>How the forward (MaxVoltage, out = 10) grows with T, with the input count and with the batch.</summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class SweepBenchmarks
{
    private const int Out = 10;
    private Tempotron _tempotron = null!;
    private float[] _spikes = null!;
    private float[] _vmax = null!;

    /// <summary>A named point of a sweep: (T, in, batch).</summary>
    [ParamsSource(nameof(Cases))]
    public SweepCase Case { get; set; } = null!;

    /// <summary>Gets the batch size of the current case (used by the per-sample column).</summary>
    public int Batch => Case.Batch;

    /// <summary>The sweep points: T in {50, 100, 400}; in in {784, 12544, 50176}; batch in {1, 64, 256}.</summary>
    public static IEnumerable<SweepCase> Cases() =>
    [
        new("T", 50, 12544, 64), new("T", 100, 12544, 64), new("T", 400, 12544, 64),
        new("in", 100, 784, 64), new("in", 100, 12544, 64), new("in", 100, 50176, 64),
        new("batch", 100, 12544, 1), new("batch", 100, 12544, 64), new("batch", 100, 12544, 256),
    ];

    /// <summary>Builds the case's inputs: encoded digits (m = 16) for the T and batch sweeps, seeded random spikes of the same density for the input sweep.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _spikes = Case.Sweep == "in"
            ? BenchData.RandomSpikes(Case.Batch, Case.In, Case.T, 5)
            : BenchData.Encode(BenchData.Digits(Case.Batch).Pixels, Case.Batch, Case.In / BenchData.Pixels, Case.T);
        _tempotron = new Tempotron(Case.In, Out, Case.T, seed: 1);
        _vmax = new float[Case.Batch * Out];
    }

    /// <summary>The event-driven forward.</summary>
    [Benchmark]
    public float MaxVoltage()
    {
        _tempotron.MaxVoltage(_spikes, Case.Batch, _vmax);
        return _vmax[0];
    }

    /// <summary>A point of a sweep.</summary>
    /// <param name="Sweep">Which quantity varies.</param>
    /// <param name="T">Time steps.</param>
    /// <param name="In">Inputs.</param>
    /// <param name="Batch">Batch size.</param>
    public sealed record SweepCase(string Sweep, int T, int In, int Batch)
    {
        /// <inheritdoc/>
        public override string ToString() => Sweep switch
        {
            "T" => $"T={T}",
            "in" => $"in={In}",
            _ => $"batch={Batch}",
        };
    }
}
