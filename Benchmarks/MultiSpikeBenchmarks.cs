using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TimingBased.Events;
using TimingBased.Neurons;
using TimingBased.Tests.Reference;

namespace TimingBased.Benchmarks;

/// <summary>
/// W8: the multi-spike tempotron on the aggregate-label task (Gütig 2016's toy setting: N = 500 afferents at 5 Hz,
/// 500 ms of background, five 50 ms features inserted Poisson(0.5) times; the label the target feature's count).
/// </summary>
/// <remarks>
/// <para>
/// "Learning cycle": one online cycle of the rule (the critical-threshold rule, or the correlation rule) over 100 trials from the same initial weights (restored before each
/// invocation, with the momentum), the cycle in which most trials are wrong, so almost every trial computes a critical
/// threshold and its gradient. "Critical threshold": <c>theta*_2</c> with its gradient, on one trial short enough
/// (N = 500, 100 ms at 5 Hz, about 250 events) for the plain double reference of the tests (direct sums on a 0.05 ms
/// grid, search on <c>N(theta)</c>) to run here as the baseline.
/// </para>
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class MultiSpikeBenchmarks
{
    private const int Trials = 100;
    private SpikeEvents _trials = null!;
    private int[] _desired = null!;
    private double[] _initial = null!;
    private MultiSpikeTempotron _model = null!;
    private MultiSpikeRule _rule = null!;
    private MultiSpikeRule _correlation = null!;
    private SpikeEvents _short = null!;
    private MultiSpikeTempotron _shortModel = null!;
    private MultiSpikeReference _reference = null!;
    private readonly double[] _gradient = new double[500];

    /// <summary>Draws the trials, the initial weights and the short trial (seeded).</summary>
    [GlobalSetup]
    public void Setup()
    {
        var options = new AggregateLabelTaskOptions();
        var task = new AggregateLabelTask(options, seed: 1);
        _trials = new SpikeEvents(options.Afferents);
        _desired = new int[Trials];
        var counts = new int[options.Features];
        for (var p = 0; p < Trials; p++)
        {
            task.NextTrial(_trials, counts);
            _desired[p] = counts[0];
        }

        _model = new MultiSpikeTempotron(options.Afferents, 1, 1100);
        _model.RandomizeWeights(seed: 2, standardDeviation: 0.01);
        _initial = new double[options.Afferents];
        _model.CopyWeightsTo(_initial);
        _rule = new MultiSpikeRule(_model, 1e-3, momentum: 0.9);
        _correlation = new MultiSpikeRule(_model, 1e-3, momentum: 0.9, kind: MultiSpikeRuleKind.Correlation);

        var brief = new AggregateLabelTask(options with { BackgroundDuration = 100, MeanOccurrences = 0 }, seed: 3);
        _short = new SpikeEvents(options.Afferents);
        brief.NextTrial(_short, counts);
        _shortModel = new MultiSpikeTempotron(options.Afferents, 1, 100);
        _shortModel.RandomizeWeights(seed: 4, standardDeviation: 0.05);
        var weights = new double[options.Afferents];
        _shortModel.CopyWeightsTo(weights);
        _reference = new MultiSpikeReference(weights, _short[0].Afferents.ToArray(), _short[0].Times.ToArray(), 100);
    }

    /// <summary>One online cycle of 100 trials from the initial weights; returns the number of errors.</summary>
    [Benchmark, BenchmarkCategory("W8 learning cycle, 100 trials")]
    public int LearningCycle()
    {
        _model.SetWeights(_initial);
        _rule.Reset();
        return _rule.Cycle(_trials, _desired);
    }

    /// <summary>The same cycle with the correlation rule (eligibilities instead of critical thresholds).</summary>
    [Benchmark, BenchmarkCategory("W8 learning cycle, 100 trials")]
    public int LearningCycleCorrelation()
    {
        _model.SetWeights(_initial);
        _correlation.Reset();
        return _correlation.Cycle(_trials, _desired);
    }

    /// <summary>The reference's <c>theta*_2</c> of the short trial (no gradient: its finite differences would cost 1,000 times more).</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("W8 critical threshold, one 100 ms trial")]
    public double Reference() => _reference.Critical(2);

    /// <summary>The library's <c>theta*_2</c> of the short trial, with its gradient.</summary>
    [Benchmark, BenchmarkCategory("W8 critical threshold, one 100 ms trial")]
    public double Library() => _shortModel.CriticalThreshold(_short[0], 0, 2, _gradient).Theta;
}
