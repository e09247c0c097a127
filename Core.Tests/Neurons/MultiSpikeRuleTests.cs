using TimingBased.Events;
using TimingBased.Neurons;
using TimingBased.Tests.Reference;

namespace TimingBased.Tests.Neurons;

/// <summary>The multi-spike rule: its update is the critical threshold's gradient, and it learns counts.</summary>
public class MultiSpikeRuleTests
{
    private static SpikeEvents Trials(int seed, int n, int count, double window)
    {
        var rng = new Random(seed);
        var events = new SpikeEvents(n);
        for (var p = 0; p < count; p++)
        {
            var aff = new List<int>();
            var times = new List<double>();
            for (var i = 0; i < n; i++)
            {
                for (var t = -Math.Log(1 - rng.NextDouble()) / 0.02; t < window; t += -Math.Log(1 - rng.NextDouble()) / 0.02)
                {
                    aff.Add(i);
                    times.Add(t);
                }
            }

            events.AddPattern([.. aff], [.. times]);
        }

        return events;
    }

    [Test]
    public void OneStep_IsPlusOrMinusLrTimesTheCriticalThresholdsGradient([Values] bool tooMany)
    {
        var model = new MultiSpikeTempotron(20, 1, 200);
        model.RandomizeWeights(1, 0.3);
        var trials = Trials(2, 20, 1, 200);
        var w = new double[20];
        model.CopyWeightsTo(w);
        var o = model.SpikeCount(trials[0], 0, 1.0);
        Assert.That(o, Is.GreaterThanOrEqualTo(1), "the case needs a spike to take away");
        var desired = tooMany ? o - 1 : o + 2;
        var gradient = new double[20];
        Assert.That(model.CriticalThreshold(trials[0], 0, o > desired ? o : o + 1, gradient).IsDefined, Is.True);

        var rule = new MultiSpikeRule(model, 0.01, momentum: 0.5);
        Assert.That(rule.Step(trials[0], [desired]), Is.EqualTo(1));
        var sign = o > desired ? -1 : 1;
        for (var i = 0; i < 20; i++)
        {
            Assert.That(model.GetWeight(0, i), Is.EqualTo(w[i] + (sign * 0.01 * gradient[i])).Within(1e-15), $"w[{i}]");
        }

        var asGradient = new double[20];
        model.SetWeights(w);
        Assert.That(MultiSpikeRule.Gradient(model, trials[0], [desired], asGradient), Is.EqualTo(1));
        Assert.That(asGradient, Is.EqualTo(gradient.Select(g => -sign * g).ToArray()).Within(1e-15));
    }

    [Test]
    public void Rule_LearnsToEmitTheDesiredCounts_OnlineAndInBatches([Values] bool batch)
    {
        const int n = 40, trials = 6;
        var model = new MultiSpikeTempotron(n, 2, 200);
        model.RandomizeWeights(3, 0.05);
        var events = Trials(4, n, trials, 200);
        int[] desired = [1, 0, 2, 1, 0, 3, 3, 0, 1, 2, 2, 1];
        var rule = new MultiSpikeRule(model, batch ? 0.002 : 0.005, momentum: 0.9);
        var errors = int.MaxValue;
        for (var cycle = 0; cycle < 2000 && errors > 0; cycle++)
        {
            errors = batch ? rule.Batch(events, desired) : rule.Cycle(events, desired);
        }

        for (var p = 0; p < trials; p++)
        {
            for (var o = 0; o < 2; o++)
            {
                Assert.That(model.SpikeCount(events[p], o, 1.0), Is.EqualTo(desired[(p * 2) + o]), $"trial {p}, output {o}");
            }
        }
    }

    [Test]
    public void Eligibility_IsTheCorrelationOfEachPspWithTheVoltage([Range(0, 5)] int seed)
    {
        var rng = new Random(seed);
        var n = 6;
        var afferents = new List<int>();
        var times = new List<double>();
        for (var i = 0; i < n; i++)
        {
            for (var c = 1 + rng.Next(4); c > 0; c--)
            {
                afferents.Add(i);
                times.Add(Math.Round(rng.NextDouble() * 120, 2));
            }
        }

        var w = Enumerable.Range(0, n).Select(_ => ((2 * rng.NextDouble()) - 0.2) * 2.5).ToArray();
        var model = new MultiSpikeTempotron(n, 1, 150);
        model.SetWeights(w);
        var events = new SpikeEvents(n);
        events.AddPattern([.. afferents], [.. times]);
        Assert.That(model.SpikeCount(events[0], 0, 1.0), Is.GreaterThanOrEqualTo(2), "the resets take part");
        var expected = new MultiSpikeReference(w, [.. afferents], [.. times], 150).Eligibility(1.0);
        var got = new double[n];
        model.Eligibility(events[0], 0, got);
        for (var i = 0; i < n; i++)
        {
            Assert.That(got[i], Is.EqualTo(expected[i]).Within(1e-6 * (1 + Math.Abs(expected[i]))), $"e[{i}]");
        }
    }

    [Test]
    public void CorrelationRule_MovesTheMostEligibleFraction_AndLearnsCounts()
    {
        var model = new MultiSpikeTempotron(20, 1, 200);
        model.RandomizeWeights(1, 0.3);
        var trials = Trials(2, 20, 1, 200);
        var w = new double[20];
        model.CopyWeightsTo(w);
        var e = new double[20];
        model.Eligibility(trials[0], 0, e);
        var o = model.SpikeCount(trials[0], 0, 1.0);
        var rule = new MultiSpikeRule(model, 0.01, kind: MultiSpikeRuleKind.Correlation, eligibleFraction: 0.2);
        Assert.That(rule.Step(trials[0], [o + 1]), Is.EqualTo(1));
        var cut = e.OrderDescending().ElementAt(3); // the 4 most eligible of 20
        for (var i = 0; i < 20; i++)
        {
            Assert.That(model.GetWeight(0, i) - w[i], Is.EqualTo(e[i] >= cut ? 0.01 : 0.0).Within(1e-15), $"w[{i}]");
        }

        const int n = 40;
        var learner = new MultiSpikeTempotron(n, 1, 200);
        learner.RandomizeWeights(3, 0.05);
        var events = Trials(4, n, 4, 200);
        int[] desired = [1, 0, 2, 3];
        var correlation = new MultiSpikeRule(learner, 0.002, momentum: 0.9, kind: MultiSpikeRuleKind.Correlation);
        var errors = int.MaxValue;
        for (var cycle = 0; cycle < 3000 && errors > 0; cycle++)
        {
            errors = correlation.Cycle(events, desired);
        }

        Assert.That(errors, Is.Zero, "the correlation rule learns the counts");
    }

    [Test]
    public void NonFiniteUpdate_OrOverflow_ThrowsAndChangesNothing()
    {
        // One PSP of weight 0.5 at its peak: d theta*_1 / dw = 1, so two such trials in a batch sum to 2 lr = 2e308.
        var model = new MultiSpikeTempotron(1, 1, 100);
        model.SetWeights([0.5]);
        var events = new SpikeEvents(1);
        events.AddPattern([0], [10.0]);
        events.AddPattern([0], [10.0]);
        var rule = new MultiSpikeRule(model, 1e308);
        Assert.Throws<InvalidOperationException>(() => rule.Batch(events, [1, 1]));
        Assert.That(model.GetWeight(0, 0), Is.EqualTo(0.5));

        // One trial moves the weight to 1e308, finite; then V0 w overflows the trace, which is reported, not NaN.
        rule.Step(events[0], [1]);
        var moved = model.GetWeight(0, 0);
        Assert.That(moved, Is.EqualTo(1e308).Within(1e293));
        Assert.Throws<InvalidOperationException>(() => rule.Step(events[0], [1]));
        Assert.That(model.GetWeight(0, 0), Is.EqualTo(moved));
        Assert.Throws<ArgumentOutOfRangeException>(() => rule.Step(events[0], [-1]));
        Assert.Throws<ArgumentException>(() => rule.Step(events[0], [1, 2]));
    }

    [Test]
    public void WeightsFarAboveTheThreshold_AreRefusedNotLoopedOn_AndNothingIsWritten()
    {
        var model = new MultiSpikeTempotron(1, 1, 100);
        model.SetWeights([1e200]);
        var events = new SpikeEvents(1);
        events.AddPattern([0], [10.0]);
        Assert.Throws<InvalidOperationException>(() => model.SpikeCount(events[0], 0, 1.0));
        var spikes = new[] { -7.0, -7.0, -7.0 };
        Assert.Throws<InvalidOperationException>(() => model.Spikes(events[0], 0, spikes));
        Assert.That(spikes, Is.All.EqualTo(-7.0), "the spikes before the failure are not written");

        // The stream: the segment that would emit them is refused, and the stream stays where it was.
        var stream = new TimingBased.Streaming.StreamingMultiSpikeTempotron(model);
        stream.Push(0, 10.0);
        Assert.Throws<InvalidOperationException>(() => stream.AdvanceTo(100));
        Assert.That(stream.Time, Is.EqualTo(10.0));
        Assert.That(stream.Counts[0], Is.Zero);
        Assert.That(stream.NewSpikes.IsEmpty, Is.True);
    }

    [Test]
    public void EligibilityOfAnOverflowingTrace_Throws_AndWritesNothing()
    {
        var model = new MultiSpikeTempotron(2, 1, 100);
        model.SetWeights([1e308, 1.0]);
        var events = new SpikeEvents(2);
        events.AddPattern([0, 1], [5.0, 10.0]);
        var e = new[] { 3.0, 4.0 };
        Assert.Throws<InvalidOperationException>(() => model.Eligibility(events[0], 0, e));
        Assert.That(e, Is.EqualTo(new[] { 3.0, 4.0 }));
    }
}
