using TimingBased.Events;
using TimingBased.Neurons;
using TimingBased.Tests.Reference;

namespace TimingBased.Tests.Neurons;

/// <summary>The multi-spike tempotron against its definition (<see cref="MultiSpikeReference"/>) and closed forms.</summary>
public class MultiSpikeTempotronTests
{
    private sealed record Case(MultiSpikeTempotron Model, MultiSpikeReference Reference, SpikeEvents Events);

    /// <summary>A random pattern: <paramref name="n"/> afferents, up to three spikes each in the window, some coincident.</summary>
    private static Case RandomCase(int seed, int n = 6, double window = 150, double tau = 20, double tauS = 5)
    {
        var rng = new Random(seed);
        var afferents = new List<int>();
        var times = new List<double>();
        for (var i = 0; i < n; i++)
        {
            for (var c = rng.Next(4); c > 0; c--)
            {
                afferents.Add(i);
                times.Add(Math.Round(rng.NextDouble() * window * 0.8, rng.Next(2) == 0 ? 0 : 3)); // whole ms coincide often
            }
        }

        var w = Enumerable.Range(0, n).Select(_ => ((2 * rng.NextDouble()) - 0.5) * 1.5).ToArray();
        var model = new MultiSpikeTempotron(n, 1, window, tau, tauS);
        model.SetWeights(w);
        var events = new SpikeEvents(n);
        events.AddPattern([.. afferents], [.. times]);
        return new Case(model, new MultiSpikeReference(w, [.. afferents], [.. times], window, tau, tauS), events);
    }

    [Test]
    public void OnePsp_ClosedForms()
    {
        // V_0 = w K(t - 10): theta*_1 = w at 10 + tPeak; below it one spike, whose reset keeps V below theta after it
        // while theta > w / 2 (V = w K - theta e^{-(t - t_s)/tau} < theta there).
        var model = new MultiSpikeTempotron(1, 1, 200);
        model.SetWeights([1.5]);
        var events = new SpikeEvents(1);
        events.AddPattern([0], [10.0]);
        var critical = model.CriticalThreshold(events[0], 0, 1);
        Assert.That(critical.IsDefined, Is.True);
        Assert.That(critical.Theta, Is.EqualTo(1.5).Within(1e-12));
        Assert.That(critical.Time, Is.EqualTo(10 + model.TPeak).Within(1e-9));
        var gradient = new double[1];
        model.CriticalThreshold(events[0], 0, 1, gradient);
        Assert.That(gradient[0], Is.EqualTo(1.0).Within(1e-12), "theta*_1 = w K(tPeak) = w");

        var spikes = new double[4];
        Assert.That(model.Spikes(events[0], 0, 1.0, spikes), Is.EqualTo(1));
        var reference = new MultiSpikeReference([1.5], [0], [10.0], 200);
        Assert.That(spikes[0], Is.EqualTo(reference.Spikes(1.0)[0]).Within(1e-9));
    }

    [Test]
    public void SilentTrace_HasNoCriticalThreshold_AndItIsNotAnError()
    {
        var model = new MultiSpikeTempotron(2, 1, 100);
        model.SetWeights([-1.0, -0.5]);
        var events = new SpikeEvents(2);
        events.AddPattern([0, 1], [5.0, 20.0]);
        var gradient = new[] { 7.0, 7.0 };
        var critical = model.CriticalThreshold(events[0], 0, 2, gradient);
        Assert.That(critical, Is.EqualTo(CriticalThreshold.Undefined));
        Assert.That(gradient, Is.EqualTo(new[] { 0.0, 0.0 }));
        Assert.That(model.SpikeCount(events[0], 0, 1e-9), Is.Zero);
    }

    [Test]
    public void Spikes_MatchTheReference([Range(0, 19)] int seed, [Values(0.3, 1.0)] double theta)
    {
        var c = RandomCase(seed);
        var expected = c.Reference.Spikes(theta);
        var got = new double[64];
        var n = c.Model.Spikes(c.Events[0], 0, theta, got);
        Assert.That(n, Is.EqualTo(expected.Count), $"N({theta})");
        for (var j = 0; j < n; j++)
        {
            Assert.That(got[j], Is.EqualTo(expected[j]).Within(1e-8), $"spike {j}");
        }
    }

    [Test]
    public void Voltage_IsThetaAtEachSpike_AndMatchesTheReference([Range(0, 4)] int seed)
    {
        var c = RandomCase(500 + seed);
        var spikes = new double[64];
        var n = c.Model.Spikes(c.Events[0], 0, spikes);
        var atSpikes = new double[n];
        c.Model.Voltage(c.Events[0], 0, spikes.AsSpan(0, n), atSpikes);
        Assert.That(atSpikes, Is.All.EqualTo(1.0).Within(1e-9), "V(t_s) = theta: the reset applies after the spike");
        double[] times = [0, 3.3, 17.25, 60, 149.9];
        var v = new double[times.Length];
        c.Model.Voltage(c.Events[0], 0, times, v);
        var reference = c.Reference.Spikes(1.0);
        for (var k = 0; k < times.Length; k++)
        {
            Assert.That(v[k], Is.EqualTo(c.Reference.Voltage(times[k], 1.0, reference)).Within(1e-8), $"V({times[k]})");
        }
    }

    [Test]
    public void SpikeAtTheWindowsEnd_Counts()
    {
        // The trace of one input at 0 rises until tPeak; a window ending where V reaches theta exactly on its way up.
        var probe = new MultiSpikeTempotron(1, 1, 1000);
        probe.SetWeights([1.0]);
        var events = new SpikeEvents(1);
        events.AddPattern([0], [0.0]);
        var theta = probe.CriticalThreshold(events[0], 0, 1).Theta * 0.5;
        var spikes = new double[2];
        probe.Spikes(events[0], 0, theta, spikes);
        var atEnd = new MultiSpikeTempotron(1, 1, spikes[0]);
        atEnd.SetWeights([1.0]);
        Assert.That(atEnd.SpikeCount(events[0], 0, theta), Is.EqualTo(1), "a spike at exactly T counts");
    }

    [Test]
    public void CriticalThresholds_MatchTheReferenceSearch([Range(0, 11)] int seed)
    {
        var c = RandomCase(40 + seed);
        for (var k = 1; k <= 4; k++)
        {
            var expected = c.Reference.Critical(k);
            var got = c.Model.CriticalThreshold(c.Events[0], 0, k);
            if (double.IsNaN(expected))
            {
                Assert.That(got.IsDefined, Is.False, $"k = {k}");
                continue;
            }

            Assert.That(got.IsDefined, Is.True, $"k = {k}");
            Assert.That(got.Theta, Is.EqualTo(expected).Within(1e-9 * expected), $"theta*_{k}");

            // Just below theta*_k the neuron fires k times (or more), just above fewer: the sup, to the last bits.
            Assert.That(c.Model.SpikeCount(c.Events[0], 0, got.Theta), Is.GreaterThanOrEqualTo(k));
            Assert.That(c.Model.SpikeCount(c.Events[0], 0, got.Theta * (1 + 1e-12)), Is.LessThan(k));

            // t*_k is a local maximum of V at theta*_k, with the spikes before it, where V = theta*_k.
            var before = c.Reference.Spikes(got.Theta * (1 + 1e-12), k).Where(s => s < got.Time - 1e-6).ToList();
            Assert.That(c.Reference.Voltage(got.Time, got.Theta, before), Is.EqualTo(got.Theta).Within(1e-9 * got.Theta), $"V(t*_{k})");
            foreach (var d in new[] { -1e-3, 1e-3 })
            {
                Assert.That(c.Reference.Voltage(got.Time + d, got.Theta, before), Is.LessThanOrEqualTo(got.Theta * (1 + 1e-9)), $"t*_{k} is a maximum");
            }
        }
    }

    [Test]
    public void CriticalThresholdGradient_MatchesFiniteDifferencesOfTheReference([Range(0, 7)] int seed)
    {
        var c = RandomCase(80 + seed, n: 5);
        for (var k = 1; k <= 3; k++)
        {
            if (c.Model.CriticalThreshold(c.Events[0], 0, k).IsDefined)
            {
                AssertGradientMatches(c, k, $"seed {seed}");
            }
        }
    }

    [Test]
    public void SpikeThresholdSurface_IsMonotone_AndEachSpikeMovesEarlierAsThetaFalls([Range(0, 59)] int seed)
    {
        // docs/multi-spike.md proves N(theta') >= N(theta) and t'_j <= t_j for theta' < theta; sample it.
        var c = RandomCase(200 + seed, n: 8, window: 200);
        var top = c.Model.CriticalThreshold(c.Events[0], 0, 1);
        if (!top.IsDefined)
        {
            return;
        }

        var previous = new double[64];
        var current = new double[64];
        var before = c.Model.Spikes(c.Events[0], 0, top.Theta * 1.001, previous);
        Assert.That(before, Is.Zero, "above theta*_1 nothing fires");
        for (var theta = top.Theta; theta > top.Theta / 20; theta *= 0.99)
        {
            var n = c.Model.Spikes(c.Events[0], 0, theta, current);
            Assert.That(n, Is.GreaterThanOrEqualTo(before), $"N at {theta:R}");
            for (var j = 0; j < Math.Min(before, 64); j++)
            {
                Assert.That(current[j], Is.LessThanOrEqualTo(previous[j] + 1e-9), $"spike {j} at {theta:R}");
            }

            (previous, current, before) = (current, previous, n);
        }
    }

    /// <summary>Central finite differences of the reference's <c>theta*_k</c> against the model's gradient, every weight.</summary>
    private static void AssertGradientMatches(Case c, int k, string what)
    {
        var w = c.Reference.W;
        var gradient = new double[w.Length];
        var critical = c.Model.CriticalThreshold(c.Events[0], 0, k, gradient);
        Assert.That(critical.IsDefined, Is.True, what);
        for (var i = 0; i < w.Length; i++)
        {
            const double h = 1e-5;
            var keep = w[i];
            w[i] = keep + h;
            var plus = c.Reference.Critical(k);
            w[i] = keep - h;
            var minus = c.Reference.Critical(k);
            w[i] = keep;
            var fd = (plus - minus) / (2 * h);
            Assert.That(gradient[i], Is.EqualTo(fd).Within(1e-5 + (1e-4 * Math.Abs(fd))), $"{what}: d theta*_{k} / d w[{i}]");
        }
    }

    private static Case Fixed(double[] w, int[] afferents, double[] times, double window, double tau = 20, double tauS = 5)
    {
        var model = new MultiSpikeTempotron(w.Length, 1, window, tau, tauS);
        model.SetWeights(w);
        var events = new SpikeEvents(w.Length);
        events.AddPattern(afferents, times);
        return new Case(model, new MultiSpikeReference(w, afferents, times, window, tau, tauS), events);
    }

    [Test]
    public void Gradient_OtherTimeConstantRatios([Values(3, 7)] int seed, [Values(15.0, 4.0, 30.0)] double tau)
    {
        // tau 15 with tauS 3.75 (the 2006 ratio), tau 4 below tauS 5, and tau 30 (ratio 6).
        var c = RandomCase(300 + seed, n: 5, tau: tau, tauS: tau == 15.0 ? 3.75 : 5);
        for (var k = 1; k <= 2; k++)
        {
            if (c.Model.CriticalThreshold(c.Events[0], 0, k).IsDefined)
            {
                AssertGradientMatches(c, k, $"tau {tau}");
            }
        }
    }

    [Test]
    public void TangencyOnAnInputsTime_ACornerMaximum()
    {
        // Afferent 0 rises from t = 0; afferent 1, strongly inhibitory, arrives at t = 5 before the PSP's peak: V turns
        // down there, so the maximum, theta*_1, is the corner at t = 5, where afferent 1's own PSP is still 0.
        var c = Fixed([1.0, -3.0], [0, 1], [0.0, 5.0], 100);
        var critical = c.Model.CriticalThreshold(c.Events[0], 0, 1);
        Assert.That(critical.Time, Is.EqualTo(5.0));
        Assert.That(critical.Theta, Is.EqualTo(c.Reference.Kernel(5.0)).Within(1e-12));
        AssertGradientMatches(c, 1, "corner");
        var gradient = new double[2];
        c.Model.CriticalThreshold(c.Events[0], 0, 1, gradient);
        Assert.That(gradient[1], Is.Zero, "the inhibitory PSP is 0 at its own time");

        // The second spike: after the first at the corner the trace is reset; with a later excitatory input it is born again.
        var two = Fixed([1.0, -3.0, 2.5], [0, 1, 2], [0.0, 5.0, 40.0], 100);
        AssertGradientMatches(two, 2, "after a corner");
    }

    [Test]
    public void Gradient_OfASpikeBornBetweenExistingOnes()
    {
        var c = Fixed([1.0, 0.75, 1.0], [0, 1, 2], [10.0, 110.0, 210.0], 300);
        AssertGradientMatches(c, 3, "born between");
    }

    [Test]
    public void ANewSpikeCanBeBornBetweenExistingOnes()
    {
        // Three PSPs far apart: 1, 0.75, 1. The third fires first (theta*_1 just above 1: the others' tails add to its
        // peak), the first at theta*_2 = 1 exactly (no tail and no reset before it), and a second spike inside a strong
        // PSP needs theta near 0.5; so theta*_3 is the weak PSP's peak (moved by the tails and the decayed resets), born
        // between the two existing spikes.
        var model = new MultiSpikeTempotron(3, 1, 300);
        model.SetWeights([1.0, 0.75, 1.0]);
        var events = new SpikeEvents(3);
        events.AddPattern([0, 1, 2], [10.0, 110.0, 210.0]);
        Assert.That(model.CriticalThreshold(events[0], 0, 1).Theta, Is.GreaterThan(1.0), "the third PSP, with the tails");
        Assert.That(model.CriticalThreshold(events[0], 0, 2).Theta, Is.EqualTo(1.0).Within(1e-12), "the first PSP's own peak");
        var critical = model.CriticalThreshold(events[0], 0, 3);
        Assert.That(critical.IsDefined, Is.True);
        // The weak PSP's peak, moved by the strong PSPs' tails and the first spike's decayed reset (a few hundredths of a ms).
        Assert.That(critical.Time, Is.EqualTo(110 + model.TPeak).Within(0.1), "the weak PSP's peak");
        var spikes = new double[3];
        Assert.That(model.Spikes(events[0], 0, critical.Theta, spikes), Is.EqualTo(3));
        Assert.That(spikes[0], Is.LessThan(critical.Time));
        Assert.That(spikes[2], Is.GreaterThan(critical.Time));

        var reference = new MultiSpikeReference([1.0, 0.75, 1.0], [0, 1, 2], [10.0, 110.0, 210.0], 300);
        Assert.That(critical.Theta, Is.EqualTo(reference.Critical(3)).Within(1e-9));
    }

    [Test]
    public void BadArguments_NameTheParameter()
    {
        var model = new MultiSpikeTempotron(2);
        var events = new SpikeEvents(2);
        events.AddPattern([0], [1.0]);
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => model.CriticalThreshold(events[0], 0, 0))!.ParamName, Is.EqualTo("k"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => model.CriticalThreshold(events[0], 1, 1))!.ParamName, Is.EqualTo("output"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => model.SpikeCount(events[0], 0, double.NaN))!.ParamName, Is.EqualTo("theta"));
        Assert.That(Assert.Throws<ArgumentException>(() => model.CriticalThreshold(events[0], 0, 1, new double[1]))!.ParamName, Is.EqualTo("gradient"));
        Assert.That(Assert.Throws<ArgumentException>(() => model.SetWeights([1.0, double.NaN]))!.ParamName, Is.EqualTo("weights"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new MultiSpikeTempotron(2, 1, 100, tau: 5, tauS: 5))!.ParamName, Is.EqualTo("tauS"));
        Assert.That(Assert.Throws<ArgumentException>(() => model.Spikes(new SpikePattern([5], [1.0]), 0, []))!.ParamName, Is.EqualTo("pattern"));
    }

    [Test]
    public void LongerDestinations_GetTheFirstElements_AndTheRestIsUntouched()
    {
        // The library's rule for every span a call writes: at least its shape; the call writes the first elements.
        var model = new MultiSpikeTempotron(3, 1, 300);
        model.SetWeights([1.0, 0.75, 1.0]);
        var events = new SpikeEvents(3);
        events.AddPattern([0, 1, 2], [10.0, 110.0, 210.0]);
        var pattern = events[0];
        var exact = new double[3];
        var longer = new[] { 7.0, 7.0, 7.0, 7.0, 7.0 };
        var exactEligibility = new double[3];
        var longerEligibility = new[] { 7.0, 7.0, 7.0, 7.0 };

        var theta = model.CriticalThreshold(pattern, 0, 1, exact).Theta;
        var thetaLonger = model.CriticalThreshold(pattern, 0, 1, longer).Theta;
        model.Eligibility(pattern, 0, exactEligibility);
        model.Eligibility(pattern, 0, longerEligibility);

        Assert.That(thetaLonger, Is.EqualTo(theta));
        Assert.That(longer, Is.EqualTo(exact.Append(7.0).Append(7.0)));
        Assert.That(longerEligibility, Is.EqualTo(exactEligibility.Append(7.0)));
        Assert.That(Assert.Throws<ArgumentException>(() => model.Eligibility(events[0], 0, new double[2]))!.ParamName, Is.EqualTo("destination"));
    }
}
