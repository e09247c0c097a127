using System.Numerics;
using TimingBased.Encoding;
using TimingBased.Events;
using TimingBased.Neurons;
using TimingBased.Streaming;
using TimingBased.Tests.Reference;

namespace TimingBased.Tests.Hardening;

/// <summary>
/// The documented rules at their exact edges, where a one-character mutation shows: <c>vMax &gt;= theta</c> is firing
/// (grid spike sign, loss, exact crossing), and spike times round half to even (SpikingJelly's <c>torch.round</c>).
/// Each case is built so that the edge is met exactly, and says so with an assertion before it tests the rule.
/// </summary>
public class ExactTieTests
{
    /// <summary>
    /// The exponential a path uses: <see cref="MathF.Exp"/> on the scalar path (<c>m</c> below the vector width), the
    /// runtime's vector exponential on the vector path (docs/encoding.md); they can differ in the last bit.
    /// </summary>
    private static float PathExp(float x, bool vectorPath) => vectorPath ? Vector.Exp(new Vector<float>(x))[0] : MathF.Exp(x);

    [Test]
    public void GridSpikeTime_IsPositiveWhenTheMaximumEqualsTheThresholdExactly()
    {
        // One input at t = 0 peaks at t = 7 (tPeak = 6.93) at w K(7) / K(tPeak) of the threshold: search the float
        // weights around K(tPeak) / K(7) for one whose computed maximum is exactly 1.
        var reference = new TempotronReference(1, 1, 20, [1.0]);
        var w0 = (float)(1.0 / (reference.V0 * reference.Kernel(7)));
        var model = new Tempotron(1, 1, 20, [w0]);
        var vMax = new float[1];
        var found = false;
        for (var k = 0; k < 200 && !found; k++)
        {
            var w = k % 2 == 0 ? w0 + (k / 2 * MathF.Pow(2, -23)) : w0 - ((k + 1) / 2 * MathF.Pow(2, -23));
            model.SetWeights([w]);
            model.MaxVoltage([0f], 1, vMax);
            found = vMax[0] == 1f;
        }

        Assert.That(found, Is.True, "a weight whose maximum is exactly the threshold");
        var spike = new float[1];
        model.SpikeTimes([0f], 1, spike);
        Assert.That(spike[0], Is.EqualTo(7f), "fired: +t*");
    }

    [Test]
    public void Loss_AtTheThresholdExactly_CountsAsFired()
    {
        var model = new Tempotron(1, 2, 10);
        float[] vMax = [1f, 1f];
        var gradient = new float[2];

        // Label 0: output 0 fired as it should; output 1 fired where it should not (a false alarm, paper cost +1).
        model.LossBackward(vMax, [0], TempotronLoss.PaperCost, gradient);
        Assert.That(gradient, Is.EqualTo(new[] { 0f, 1f }));
        Assert.That(model.Loss(vMax, [0], TempotronLoss.PaperCost), Is.Zero, "|vMax - theta| = 0 either way");
    }

    [Test]
    public void ExactModel_ThresholdEqualToTheMaximum_FiresAtTheMaximum_BatchAndStream()
    {
        var events = new SpikeEvents(2);
        events.AddPattern([0, 1], [3.0, 9.5]);
        var silent = new ExactTempotron(2, 1, 100);
        silent.SetWeights([0.4, 0.3]);
        var result = new ExactTempotronOutput[1];
        silent.Evaluate(events, result);
        Assert.That(result[0].Fired, Is.False, "the maximum is below 1");

        // The same weights with the threshold at the trace's maximum, exactly: V reaches it (V >= theta) at tMax.
        var tangent = new ExactTempotron(2, 1, 100, threshold: result[0].VMax);
        tangent.SetWeights([0.4, 0.3]);
        var fired = new ExactTempotronOutput[1];
        tangent.Evaluate(events, fired);
        Assert.That(fired[0].Fired, Is.True);
        Assert.That(fired[0].CrossingTime, Is.EqualTo(result[0].TMax).Within(1e-6), "a tangency: V is within rounding of theta about sqrt(eps) either side");

        var stream = new StreamingExactTempotron(tangent);
        stream.Push(0, 3.0);
        stream.Push(1, 9.5);
        stream.AdvanceTo(100);
        Assert.That(stream.FirstToFire, Is.Zero);
        Assert.That(stream.CrossingTimes[0], Is.EqualTo(result[0].TMax).Within(1e-6));
    }

    [Test]
    public void ExactModel_InputsAtTheCrossingTime_AreShunted()
    {
        // Afferent 0 (weight 1, t = 0) rises through V(4) at t = 4, where afferent 1 fires with a huge weight. Thresholds
        // scanned across V(4) make the crossing land before 4, exactly at 4, or after it. Landing at 4, the crossing is
        // at the input's time, so the input is shunted and the maximum is afferent 0's peak, 1; after 4 it counts.
        // Rounding in the sums (the huge weight) makes some thresholds just above the walk's V(4) cross at the start of
        // the segment that begins at 4, where the sums must be taken without the input.
        var events = new SpikeEvents(2);
        events.AddPattern([0, 1], [0.0, 4.0]);
        var single = new SpikeEvents(2);
        single.AddPattern([0], [0.0]);
        var at4 = new double[1];
        var probe = new ExactTempotron(2, 1, 100);
        probe.SetWeights([1.0, 0.0]);
        probe.Voltage(single[0], 0, [4.0], shunted: false, at4);
        var atTheInput = 0;
        foreach (var huge in new[] { 1e9, 3.3e9, 7.7e8, 5.1e9 })
        {
            for (var k = -100; k <= 100; k++)
            {
                var model = new ExactTempotron(2, 1, 100, threshold: at4[0] + (k * 1e-8));
                model.SetWeights([1.0, huge]);
                var result = new ExactTempotronOutput[1];
                model.Evaluate(events, result);
                Assert.That(result[0].Fired, Is.True);
                if (result[0].CrossingTime <= 4.0)
                {
                    atTheInput += result[0].CrossingTime == 4.0 ? 1 : 0;
                    Assert.That(result[0].VMax, Is.EqualTo(1.0).Within(1e-9), $"weight {huge}, step {k}: crossing at {result[0].CrossingTime:R}, input shunted");
                    var stream = new StreamingExactTempotron(model);
                    stream.Push(0, 0.0);
                    stream.Push(1, 4.0);
                    stream.AdvanceTo(10.0);
                    var v = new double[1];
                    stream.CopyVoltagesTo(v);
                    Assert.That(stream.CrossingTimes[0], Is.EqualTo(result[0].CrossingTime).Within(1e-12), "the stream's crossing");
                    Assert.That(v[0], Is.LessThan(1.0 + 1e-9), $"weight {huge}, step {k}: the stream shunts the input too");
                }
                else
                {
                    Assert.That(result[0].VMax, Is.GreaterThan(1e6), $"weight {huge}, step {k}: the input came before the crossing");
                }
            }
        }

        Assert.That(atTheInput, Is.GreaterThan(0), "some crossings land exactly on the input's time");
    }

    /// <summary>
    /// An encoder, a value and a neuron whose <c>q = (x - mu)² / (2 sigma2)</c>, computed in float32 as SpikingJelly
    /// does, has <c>exp(-q)</c> exactly 0.5 with the path's exponential.
    /// </summary>
    private static (GaussianTuning Encoder, float X, int Neuron) HalfCase(int m, bool vectorPath)
    {
        for (var hi = 1.5f; hi < 40f; hi += 0.25f)
        {
            var encoder = new GaussianTuning(1, m, [0f], [hi]);
            for (var j = 0; j < m; j++)
            {
                var mu = encoder.Mu[j];
                var twoSigma2 = 2 * encoder.Sigma2[j];
                var x = MathF.BitDecrement(mu + MathF.Sqrt(MathF.Log(2) * twoSigma2));
                for (var step = 0; step < 16; step++, x = MathF.BitIncrement(x))
                {
                    var d = x - mu;
                    if (PathExp(-((d * d) / twoSigma2), vectorPath) == 0.5f)
                    {
                        return (encoder, x, j);
                    }
                }
            }
        }

        return (null!, 0, -1);
    }

    [Test]
    public void Encoder_RoundsAnExactHalfToEven([Values(3, 16)] int m, [Values(1, 5)] int maxSpikeTime)
    {
        var vectorPath = Vector.IsHardwareAccelerated && m >= Vector<float>.Count;
        var (encoder, x, j) = HalfCase(m, vectorPath);
        Assert.That(j, Is.GreaterThanOrEqualTo(0), "a value whose exp(-q) is exactly one half on this path");
        var half = maxSpikeTime * (1 - 0.5f);
        var expected = MathF.Round(half, MidpointRounding.ToEven);
        Assert.That(expected, Is.Not.EqualTo(MathF.Round(half, MidpointRounding.AwayFromZero)), "a true tie");

        // A batch of a few values, the tie in several places, so the dense and the cached rows both meet it.
        float[] values = [x, 0.1f, x, x];
        var dense = new float[values.Length * m];
        encoder.Encode(values, 1, maxSpikeTime, dense);
        for (var s = 0; s < values.Length; s++)
        {
            if (values[s] == x)
            {
                Assert.That(dense[(s * m) + j], Is.EqualTo(expected), $"dense, sample {s}");
            }
        }

        // The event encoder picks its path by the same rule; so the same value is a tie there too.
        var events = new SpikeEvents(values.Length * m);
        encoder.Encode(values, 1, maxSpikeTime, events);
        var pattern = events[0];
        var time = -1.0;
        for (var k = 0; k < pattern.Count; k++)
        {
            if (pattern.Afferents[k] == j)
            {
                time = pattern.Times[k];
            }
        }

        Assert.That(time, Is.EqualTo(expected), "events: the spike of the tie's neuron in sample 0");
    }
}
