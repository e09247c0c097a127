using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TimingBased.Events;
using TimingBased.Neurons;
using TimingBased.Tests.Reference;

namespace TimingBased.Benchmarks;

/// <summary>
/// W6: one learning cycle of the exact tempotron on the paper's capacity task, P = 1500 patterns of N = 500
/// afferents firing once each in [0, 500 ms] (alpha = 3), the tempotron rule with momentum 0.99; and the batch
/// evaluation of the same patterns by 10 outputs.
/// </summary>
/// <remarks>
/// Each invocation restores the initial weights and momentum first, so every invocation times the same cycle. The
/// baseline is the plain double-precision reference of the tests (each segment's sums recomputed from every
/// earlier event, the crossing by bisection) driving the same rule.
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ExactBenchmarks
{
    private const int N = 500;
    private const int P = 1500;
    private const double LearningRate = 1e-4;
    private const double Momentum = 0.99;
    private SpikeEvents _events = null!;
    private bool[] _targets = null!;
    private double[] _initial = null!;
    private ExactTempotron _model = null!;
    private TempotronRule _rule = null!;
    private ExactTempotron _wide = null!;
    private ExactTempotronOutput[] _outputs = null!;
    private int[][] _afferents = null!;
    private double[][] _times = null!;
    private readonly double[] _gaps = new double[N];
    private readonly double[] _decays = new double[2 * N];

    /// <summary>Draws the task and the initial weights (seeded).</summary>
    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        _events = new SpikeEvents(N);
        _targets = new bool[P];
        var afferents = Enumerable.Range(0, N).ToArray();
        var times = new double[N];
        for (var p = 0; p < P; p++)
        {
            for (var i = 0; i < N; i++)
            {
                times[i] = rng.NextDouble() * 500;
            }

            _events.AddPattern(afferents, times);
            _targets[p] = rng.Next(2) == 0;
        }

        _events.SortByTime(); // once: the models and streams read time-ordered patterns as they are
        _afferents = [.. Enumerable.Range(0, P).Select(p => _events[p].Afferents.ToArray())];
        _times = [.. Enumerable.Range(0, P).Select(p => _events[p].Times.ToArray())];
        _model = new ExactTempotron(N, 1);
        _model.RandomizeWeights(1);
        _initial = new double[N];
        _model.CopyWeightsTo(_initial);
        _rule = new TempotronRule(_model, LearningRate, Momentum);
        _wide = new ExactTempotron(N, 10);
        _wide.RandomizeWeights(2, 0.01);
        _outputs = new ExactTempotronOutput[P * 10];
    }

    /// <summary>The reference: evaluate each pattern and apply the rule with momentum, online.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("W6 learning cycle, N 500, P 1500")]
    public int Reference()
    {
        var w = (double[])_initial.Clone();
        var previous = new double[N];
        var errors = 0;
        for (var p = 0; p < P; p++)
        {
            var dw = new ExactTempotronReference(w, 500).RuleUpdate(_afferents[p], _times[p], _targets[p], LearningRate);
            if (dw.All(x => x == 0))
            {
                continue;
            }

            errors++;
            for (var i = 0; i < N; i++)
            {
                previous[i] = dw[i] + (Momentum * previous[i]);
                w[i] += previous[i];
            }
        }

        return errors;
    }

    /// <summary>The library: <see cref="TempotronRule.Cycle"/>.</summary>
    [Benchmark, BenchmarkCategory("W6 learning cycle, N 500, P 1500")]
    public int Library()
    {
        _model.SetWeights(_initial);
        _rule.Reset();
        return _rule.Cycle(_events, _targets);
    }

    /// <summary>
    /// The floor of a cycle's evaluation: the two exponentials per event that no evaluation can avoid (the segment
    /// decays), vectorised, for every pattern; nothing else.
    /// </summary>
    [Benchmark, BenchmarkCategory("W6 learning cycle, N 500, P 1500")]
    public double FloorTwoExpsPerEvent()
    {
        var sum = 0.0;
        for (var p = 0; p < P; p++)
        {
            var times = _events[p].Times; // time-ordered (sorted once in the setup)
            var gaps = _gaps.AsSpan(0, times.Length);
            gaps[0] = times[0];
            TensorPrimitives.Subtract(times[1..], times[..^1], gaps[1..]);
            var a = _decays.AsSpan(0, times.Length);
            var b = _decays.AsSpan(N, times.Length);
            TensorPrimitives.Multiply(gaps, -1 / 15.0, a);
            TensorPrimitives.Exp(a, a);
            TensorPrimitives.Multiply(gaps, -1 / 3.75, b);
            TensorPrimitives.Exp(b, b);
            sum += a[^1] + b[^1];
        }

        return sum;
    }

    /// <summary>Batch evaluation: 1500 patterns by 10 outputs.</summary>
    [Benchmark, BenchmarkCategory("W6 evaluate 1500 patterns, 10 outputs")]
    public double Evaluate10()
    {
        _wide.Evaluate(_events, _outputs);
        return _outputs[^1].VMax;
    }
}
