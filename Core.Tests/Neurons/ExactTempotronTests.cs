using TimingBased.Events;
using TimingBased.Neurons;
using TimingBased.Tests.Reference;

namespace TimingBased.Tests.Neurons;

public class ExactTempotronTests
{
    private static (SpikeEvents Events, int[] Afferents, double[] Times) RandomPattern(Random rng, int n, double window, int maxPerAfferent)
    {
        var events = new SpikeEvents(n);
        for (var i = 0; i < n; i++)
        {
            var count = rng.Next(maxPerAfferent + 1);
            for (var c = 0; c < count; c++)
            {
                events.Add(i, rng.NextDouble() * window * 1.05); // some beyond the window
            }
        }

        events.EndPattern();
        var p = events[0];
        return (events, p.Afferents.ToArray(), p.Times.ToArray());
    }

    private static void AssertMatches(ExactTempotronOutput got, (bool Fired, double Crossing, double VMax, double TMax) want, double window, string what)
    {
        Assert.That(got.Fired, Is.EqualTo(want.Fired), what + " fired");
        var timeTolerance = 1e-9 * window;
        if (want.Fired)
        {
            Assert.That(got.CrossingTime, Is.EqualTo(want.Crossing).Within(timeTolerance), what + " crossing");
        }
        else
        {
            Assert.That(double.IsNaN(got.CrossingTime), Is.True, what + " crossing of a silent neuron");
        }

        Assert.That(got.VMax, Is.EqualTo(want.VMax).Within(1e-9 * Math.Max(1, Math.Abs(want.VMax))), what + " vMax");
        Assert.That(got.TMax, Is.EqualTo(want.TMax).Within(timeTolerance), what + " tMax");
    }

    [Test]
    public void Evaluate_MatchesTheReference_OnRandomCases()
    {
        var rng = new Random(1);
        int[] sizes = [1, 2, 3, 7, 16, 17, 50];
        double[] windows = [1, 10, 100, 500, 5000];
        double[] scales = [1e-6, 1e-2, 0.3, 1, 3, 50];
        var fired = 0;
        for (var n = 0; n < 600; n++)
        {
            var afferents = sizes[rng.Next(sizes.Length)];
            var window = windows[rng.Next(windows.Length)];
            var scale = scales[rng.Next(scales.Length)];
            var (events, aff, times) = RandomPattern(rng, afferents, window, rng.Next(6));
            var w = Enumerable.Range(0, afferents).Select(_ => scale * ((2 * rng.NextDouble()) - 0.6)).ToArray();
            var model = new ExactTempotron(afferents, 1, window);
            model.SetWeights(w);
            var reference = new ExactTempotronReference(w, window);
            var want = reference.Evaluate(aff, times);
            if (Math.Abs(want.VMax - 1) < 1e-9 && !want.Fired)
            {
                continue; // within rounding of the threshold: either answer is right
            }

            var got = new ExactTempotronOutput[1];
            model.Evaluate(events, got);
            AssertMatches(got[0], want, window, $"case {n} (N {afferents}, T {window}, scale {scale})");
            fired += want.Fired ? 1 : 0;
        }

        Assert.That(fired, Is.InRange(100, 500), "the cases must cover firing and silent neurons");
    }

    [TestCase(3.75, 15.0)]
    [TestCase(5.0, 8.0)]
    [TestCase(15.0, 15.5)]
    public void Evaluate_TauBelowTauS_MatchesTheReference_AndTheSwappedPair(double tau, double tauS)
    {
        // K is symmetric in (tau, tauS): the model with them swapped is the same model, to rounding.
        var rng = new Random((int)(tau * 100));
        var fired = 0;
        for (var n = 0; n < 150; n++)
        {
            var (events, aff, times) = RandomPattern(rng, 12, 60, 3);
            var w = Enumerable.Range(0, 12).Select(_ => ((2 * rng.NextDouble()) - 0.7) * 0.6).ToArray();
            var model = new ExactTempotron(12, 1, 60, tau, tauS);
            var swapped = new ExactTempotron(12, 1, 60, tauS, tau);
            Assert.That(model.V0, Is.LessThan(0));
            model.SetWeights(w);
            swapped.SetWeights(w);
            var want = new ExactTempotronReference(w, 60, tau, tauS).Evaluate(aff, times);
            if (Math.Abs(want.VMax - 1) < 1e-9 && !want.Fired)
            {
                continue; // within rounding of the threshold: either answer is right
            }

            var got = new ExactTempotronOutput[1];
            var other = new ExactTempotronOutput[1];
            model.Evaluate(events, got);
            swapped.Evaluate(events, other);
            AssertMatches(got[0], want, 60, $"case {n}");
            AssertMatches(other[0], want, 60, $"case {n}, swapped");
            fired += want.Fired ? 1 : 0;
        }

        Assert.That(fired, Is.InRange(20, 130), $"the cases must cover firing and silent neurons ({fired} of 150 fired)");
    }

    [Test]
    public void Evaluate_SeveralOutputs_EachMatchesItsOwnReference()
    {
        var rng = new Random(2);
        var (events, aff, times) = RandomPattern(rng, 40, 500, 3);
        var model = new ExactTempotron(40, 10);
        var w = Enumerable.Range(0, 400).Select(_ => (rng.NextDouble() - 0.4) * 0.5).ToArray();
        model.SetWeights(w);
        var got = new ExactTempotronOutput[10];
        model.Evaluate(events, got);
        for (var o = 0; o < 10; o++)
        {
            var reference = new ExactTempotronReference(w.AsSpan(o * 40, 40).ToArray(), 500);
            AssertMatches(got[o], reference.Evaluate(aff, times), 500, $"output {o}");
        }
    }

    [TestCase(1e-12)]
    [TestCase(1e-6)]
    [TestCase(-1e-9)]
    public void TangentialCrossing_AtTheStationaryPoint(double excess)
    {
        // One input of weight 1 + excess at 10 ms: its PSP peaks at 1 + excess, tPeak later.
        var model = new ExactTempotron(1, 1, 100);
        model.SetWeights([1 + excess]);
        var events = new SpikeEvents(1);
        events.AddPattern([0], [10.0]);
        var got = new ExactTempotronOutput[1];
        model.Evaluate(events, got);
        var want = new ExactTempotronReference([1 + excess], 100).Evaluate([0], [10.0]);
        AssertMatches(got[0], want, 100, "tangential");
        Assert.That(got[0].Fired, Is.EqualTo(excess > 0));
        Assert.That(got[0].TMax, Is.EqualTo(10 + model.TPeak).Within(1e-9));
        if (excess > 0)
        {
            Assert.That(got[0].CrossingTime, Is.LessThanOrEqualTo(10 + model.TPeak).And.GreaterThan(10 + model.TPeak - (3e3 * Math.Sqrt(excess))));
        }
    }

    [Test]
    public void CrossingAtASegmentEnd_MatchesTheReference()
    {
        // The first input alone stays below threshold; a second input arriving while V is rising, at a time found
        // by bisection to be where V first reaches 1 with a third input at the same time, puts the crossing at an event.
        var model = new ExactTempotron(2, 1, 100);
        var reference = new ExactTempotronReference([1.2, 0.5], 100);
        model.SetWeights([1.2, 0.5]);
        var events = new SpikeEvents(2);
        var crossing = reference.Evaluate([0], [5.0]).Crossing;
        events.AddPattern([0, 1], [5.0, crossing]); // the second input arrives exactly at the first input's crossing
        var got = new ExactTempotronOutput[1];
        model.Evaluate(events, got);
        var want = reference.Evaluate([0, 1], [5.0, crossing]);
        AssertMatches(got[0], want, 100, "crossing at an event");
        Assert.That(got[0].VMax, Is.EqualTo(reference.Evaluate([0], [5.0]).VMax).Within(1e-12), "the input at t_c is shunted");
    }

    [Test]
    public void Shunting_IgnoresInputsAfterTheCrossing()
    {
        var model = new ExactTempotron(2, 1, 200);
        model.SetWeights([1.5, 5]);
        var events = new SpikeEvents(2);
        events.AddPattern([0, 1], [0.0, 20.0]);
        var got = new ExactTempotronOutput[1];
        model.Evaluate(events, got);
        Assert.That(got[0].Fired, Is.True);
        Assert.That(got[0].VMax, Is.EqualTo(1.5).Within(1e-12), "the shunted trace peaks at the first PSP's peak");
        Assert.That(got[0].TMax, Is.EqualTo(model.TPeak).Within(1e-9));
        Assert.That(got[0].CrossingTime, Is.LessThan(model.TPeak));
        var unshunted = new double[1];
        model.Voltage(events[0], 0, [20 + model.TPeak], shunted: false, unshunted);
        Assert.That(unshunted[0], Is.GreaterThan(5), "without the shunt the second input would dominate");
    }

    [Test]
    public void SilentTrace_ReportsZeroAtTimeZero()
    {
        var model = new ExactTempotron(3, 1, 50);
        model.SetWeights([-1, -0.5, -2]);
        var events = new SpikeEvents(3);
        events.AddPattern([0, 1, 2], [3.0, 7.0, 9.0]);
        events.AddPattern([], []);
        var got = new ExactTempotronOutput[2];
        model.Evaluate(events, got);
        foreach (var r in got)
        {
            Assert.That(r, Is.EqualTo(new ExactTempotronOutput(false, double.NaN, 0, 0)));
        }
    }

    [Test]
    public void LongWindow_ThousandsOfSpikes_FiniteAndCorrect()
    {
        var rng = new Random(3);
        const double window = 1e6;
        var events = new SpikeEvents(100);
        for (var k = 0; k < 3000; k++)
        {
            events.Add(rng.Next(100), rng.NextDouble() * window);
        }

        events.EndPattern();
        var w = Enumerable.Range(0, 100).Select(_ => (rng.NextDouble() - 0.5) * 0.6).ToArray();
        var model = new ExactTempotron(100, 1, window);
        model.SetWeights(w);
        var got = new ExactTempotronOutput[1];
        model.Evaluate(events, got);
        Assert.That(double.IsFinite(got[0].VMax) && double.IsFinite(got[0].TMax), Is.True);
        var p = events[0];
        AssertMatches(got[0], new ExactTempotronReference(w, window).Evaluate(p.Afferents.ToArray(), p.Times.ToArray()), window, "T = 1e6");
    }

    [Test]
    public void Voltage_WithoutCrossing_TimesThreshold_EqualsTheGridModel()
    {
        var rng = new Random(4);
        const int n = 30, t = 60;
        var grid = new float[n];
        for (var i = 0; i < n; i++)
        {
            grid[i] = rng.Next(3) == 0 ? -1 : rng.Next(t);
        }

        var weights = TestData.Uniform(rng, n, -0.05f, 0.08f);
        const double theta = 2.5;
        var gridModel = new Tempotron(n, 1, t, weights, vThreshold: theta);
        var v = new float[t];
        gridModel.Voltage(grid, 1, v);
        var exact = new ExactTempotron(n, 1, t, threshold: theta);
        exact.SetWeights([.. weights.Select(x => (double)x)]);
        var events = new SpikeEvents(n);
        events.AddDense(grid);
        var result = new ExactTempotronOutput[1];
        exact.Evaluate(events, result);
        Assert.That(result[0].Fired, Is.False, "the case must stay below threshold");
        var exactV = new double[t];
        exact.Voltage(events[0], 0, [.. Enumerable.Range(0, t).Select(x => (double)x)], exactV);
        for (var k = 0; k < t; k++)
        {
            Assert.That(exactV[k] * theta, Is.EqualTo(v[k]).Within(1e-5 * (1 + Math.Abs(v[k]))), $"t = {k}");
        }
    }

    [Test]
    public void Rule_OneStep_MatchesTheReferenceUpdate([Values(true, false)] bool target)
    {
        var rng = new Random(target ? 5 : 6);
        for (var n = 0; n < 50; n++)
        {
            var (events, aff, times) = RandomPattern(rng, 20, 200, 2);
            var w = Enumerable.Range(0, 20).Select(_ => (rng.NextDouble() - 0.4) * 0.8).ToArray();
            var model = new ExactTempotron(20, 1, 200);
            model.SetWeights(w);
            var rule = new TempotronRule(model, 0.01, momentum: 0.9);
            var errors = rule.Step(events, 0, [target]);
            var reference = new ExactTempotronReference(w, 200);
            var dw = reference.RuleUpdate(aff, times, target, 0.01);
            Assert.That(errors, Is.EqualTo(reference.Evaluate(aff, times).Fired == target ? 0 : 1), $"case {n}: an error exactly when the output is wrong");
            for (var i = 0; i < 20; i++)
            {
                Assert.That(model.GetWeight(0, i), Is.EqualTo(w[i] + dw[i]).Within(1e-12), $"case {n}, w[{i}]");
            }

            // The gradient form of the same step: w - lr g is the update without momentum.
            var g = new double[20];
            model.SetWeights(w);
            TempotronRule.Gradient(model, events, 0, [target], g);
            for (var i = 0; i < 20; i++)
            {
                Assert.That(-0.01 * g[i], Is.EqualTo(dw[i]).Within(1e-12));
            }
        }
    }

    [Test]
    public void Rule_Momentum_AddsTheLastAppliedUpdate_KeptAcrossCorrectTrials()
    {
        var model = new ExactTempotron(2, 1, 100);
        model.SetWeights([0.3, 0.2]);
        var events = new SpikeEvents(2);
        events.AddPattern([0, 1], [10.0, 12.0]); // silent with these weights
        events.AddPattern([], []); // silent: correct for target false
        var rule = new TempotronRule(model, 0.01, momentum: 0.5);
        var w0 = new[] { 0.3, 0.2 };
        var dw1 = new ExactTempotronReference(w0, 100).RuleUpdate([0, 1], [10.0, 12.0], true, 0.01);
        rule.Step(events, 0, [true]);
        Assert.That(rule.Step(events, 1, [false]), Is.Zero, "a correct trial changes nothing");
        var w1 = new[] { 0.3 + dw1[0], 0.2 + dw1[1] };
        var dw2 = new ExactTempotronReference(w1, 100).RuleUpdate([0, 1], [10.0, 12.0], true, 0.01);
        rule.Step(events, 0, [true]);
        for (var i = 0; i < 2; i++)
        {
            Assert.That(model.GetWeight(0, i), Is.EqualTo(w1[i] + dw2[i] + (0.5 * dw1[i])).Within(1e-14));
        }
    }

    [Test]
    public void Rule_NonFiniteUpdate_ThrowsAndChangesNothing()
    {
        var model = new ExactTempotron(1, 1, 100);
        model.SetWeights([2]);
        var events = new SpikeEvents(1);
        events.AddPattern([0, 0], [1.0, 1.0]); // fires; a false alarm for target "silent"
        var rule = new TempotronRule(model, double.MaxValue, momentum: 0.5);
        Assert.Throws<InvalidOperationException>(() => rule.Step(events, 0, [false]));
        Assert.That(model.GetWeight(0, 0), Is.EqualTo(2));

        // The momentum state did not change either: a sane step now equals one of a fresh rule.
        rule.LearningRate = 0.01;
        var twin = new ExactTempotron(1, 1, 100);
        twin.SetWeights([2]);
        new TempotronRule(twin, 0.01, momentum: 0.5).Step(events, 0, [false]);
        rule.Step(events, 0, [false]);
        Assert.That(model.GetWeight(0, 0), Is.EqualTo(twin.GetWeight(0, 0)));

        model.SetWeights([double.MaxValue]);
        Assert.Throws<InvalidOperationException>(() => model.Evaluate(events, new ExactTempotronOutput[1]));
    }

    [Test]
    public void Rule_LearnsASmallCapacityTask()
    {
        var rng = new Random(7);
        const int n = 100, p = 50;
        var events = new SpikeEvents(n);
        var targets = new bool[p];
        for (var k = 0; k < p; k++)
        {
            for (var i = 0; i < n; i++)
            {
                events.Add(i, rng.NextDouble() * 500);
            }

            events.EndPattern();
            targets[k] = rng.Next(2) == 0;
        }

        var model = new ExactTempotron(n, 1);
        model.RandomizeWeights(1);
        var rule = new TempotronRule(model, 3e-3, 0.99);
        var cycles = 0;
        while (rule.Cycle(events, targets) > 0 && cycles < 500)
        {
            cycles++;
        }

        Assert.That(cycles, Is.LessThan(500), "alpha = 0.5 must be learned");
    }

    [Test]
    public void AnyEventOrder_GivesTheSameResults()
    {
        var rng = new Random(8);
        var (events, aff, times) = RandomPattern(rng, 30, 300, 3);
        var model = new ExactTempotron(30, 3, 300);
        model.RandomizeWeights(4, 0.3);
        var sorted = new ExactTempotronOutput[3];
        model.Evaluate(events, sorted);
        var order = Enumerable.Range(0, aff.Length).OrderBy(_ => rng.Next()).ToArray();
        var shuffled = new SpikeEvents(30);
        shuffled.AddPattern([.. order.Select(k => aff[k])], [.. order.Select(k => times[k])]);
        Assert.That(shuffled[0].IsTimeOrdered, Is.False);
        var got = new ExactTempotronOutput[3];
        model.Evaluate(shuffled, got);
        Assert.That(got, Is.EqualTo(sorted));
        model.Evaluate(new SpikePattern([.. order.Select(k => aff[k])], [.. order.Select(k => times[k])]), got);
        Assert.That(got, Is.EqualTo(sorted));
    }

    [Test]
    public void BadInput_ThrowsNamingTheParameter()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ExactTempotron(0, 1))!.ParamName, Is.EqualTo("afferents"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ExactTempotron(1, 1, double.NaN))!.ParamName, Is.EqualTo("window"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ExactTempotron(1, 1, 10, 1e-300, 2e-300))!.ParamName, Is.EqualTo("tau"));
        var model = new ExactTempotron(2, 1);
        Assert.That(Assert.Throws<ArgumentException>(() => model.SetWeights([1, double.NaN]))!.ParamName, Is.EqualTo("weights"));
        Assert.That(model.GetWeight(0, 1), Is.Zero);
        var other = new SpikeEvents(3);
        other.AddPattern([2], [1.0]);
        Assert.That(Assert.Throws<ArgumentException>(() => model.Evaluate(other, new ExactTempotronOutput[1]))!.ParamName, Is.EqualTo("patterns"));
        var events = new SpikeEvents(2);
        events.AddPattern([1], [1.0]);
        Assert.That(Assert.Throws<ArgumentException>(() => model.Evaluate(events, []))!.ParamName, Is.EqualTo("destination"));
        Assert.That(Assert.Throws<ArgumentException>(() => model.Evaluate(new SpikePattern([0, 5], [1.0, 2.0]), new ExactTempotronOutput[1]))!.ParamName, Is.EqualTo("pattern"));
        Assert.That(Assert.Throws<ArgumentException>(() => model.Evaluate(new SpikePattern([0, 1], [2.0, -1.0]), new ExactTempotronOutput[1]))!.ParamName, Is.EqualTo("pattern"));
    }
}
