using System.Numerics.Tensors;
using TimingBased.Neurons;
using TimingBased.Tests.Reference;

namespace TimingBased.Tests.Neurons;

public class TempotronForwardTests
{
    internal static (Tempotron Fast, TempotronReference Reference) Pair(int inF, int outF, int t, Random rng, double scale = 1.0,
        double tau = Tempotron.DefaultTau, double tauS = Tempotron.DefaultTauS)
    {
        var w = new float[outF * inF];
        for (var k = 0; k < w.Length; k++)
        {
            w[k] = (float)(((rng.NextDouble() * 2) - 1) * scale);
        }

        return (new Tempotron(inF, outF, t, w, tau, tauS), new TempotronReference(inF, outF, t, Array.ConvertAll(w, x => (double)x), tau, tauS));
    }

    /// <summary>Random spike times: silent, integer, non-integer, at or beyond T, -0 and +Infinity.</summary>
    internal static float[] RandomSpikes(Random rng, int count, int t, bool integerOnly = false)
    {
        var s = new float[count];
        for (var k = 0; k < s.Length; k++)
        {
            s[k] = rng.Next(10) switch
            {
                0 or 1 => -1f,
                2 => integerOnly ? t + rng.Next(3) : t - (0.5f * rng.NextSingle()),
                3 => integerOnly ? -0f : float.PositiveInfinity,
                4 or 5 or 6 => integerOnly ? rng.Next(t) : rng.Next(t) + (0.05f + (0.9f * rng.NextSingle())),
                _ => rng.Next(t),
            };
        }

        return s;
    }

    [Test]
    public void PaperIdentities()
    {
        var n = new Tempotron(1, 1, 10);
        Assert.That(n.V0, Is.EqualTo(2.116534735957599).Within(1e-14));
        Assert.That(n.TPeak, Is.EqualTo(6.931471805599453).Within(1e-14));
        Assert.That(Tempotron.Normalization(30, 7.5, 1), Is.EqualTo(n.V0).Within(1e-13), "V0 depends only on tau/tauS");
        Assert.That(Tempotron.Normalization(15, 3.75, 2.5), Is.EqualTo(2.5 * n.V0).Within(1e-13));
        var peak = Math.Exp(-n.TPeak / 15) - Math.Exp(-n.TPeak / 3.75);
        Assert.That(n.V0 * peak, Is.EqualTo(1.0).Within(1e-14), "one PSP peaks at the threshold");
    }

    [Test]
    public void OneInputAtZero_GridMaximumAtSeven()
    {
        var n = new Tempotron(1, 1, 20, [1f]);
        var vmax = new float[1];
        var spikes = new float[1];
        n.MaxVoltage([0f], 1, vmax);
        n.SpikeTimes([0f], 1, spikes);
        Assert.That(vmax[0], Is.EqualTo(0.9999585731).Within(1e-6));
        Assert.That(spikes[0], Is.EqualTo(-7f), "below threshold: -argmax");
    }

    [Test]
    public void TwoInputs_GridMaximumAtTen()
    {
        var n = new Tempotron(2, 1, 30, [1f, 1f]);
        var vmax = new float[1];
        var spikes = new float[1];
        n.MaxVoltage([0f, 5f], 1, vmax);
        n.SpikeTimes([0f, 5f], 1, spikes);
        Assert.That(vmax[0], Is.EqualTo(1.8982519375).Within(2e-6));
        Assert.That(spikes[0], Is.EqualTo(10f));
    }

    [Test]
    public void KernelIsZeroAtTheSpikeAndBefore()
    {
        var n = new Tempotron(1, 1, 10, [1f]);
        var v = new float[10];
        n.Voltage([4f], 1, v);
        Assert.That(v.AsSpan(0, 5).ToArray(), Is.All.EqualTo(0f));
        Assert.That(v[5], Is.GreaterThan(0f));
    }

    [Test]
    public void NegativeZero_IsASpikeAtZero_AndNegativeTimesAreSilent()
    {
        var n = new Tempotron(1, 1, 10, [1f]);
        var a = new float[10];
        var b = new float[10];
        var c = new float[10];
        n.Voltage([-0f], 1, a);
        n.Voltage([0f], 1, b);
        n.Voltage([-1e-30f], 1, c);
        Assert.That(a, Is.EqualTo(b));
        Assert.That(a[1], Is.GreaterThan(0f));
        Assert.That(c, Is.All.EqualTo(0f));
    }

    [TestCase(10f)]
    [TestCase(9.5f)]
    [TestCase(1e9f)]
    [TestCase(float.PositiveInfinity)]
    [TestCase(float.NegativeInfinity)]
    public void TimesOutsideTheWindow_ContributeNothing(float s)
    {
        var n = new Tempotron(1, 1, 10, [1f]);
        var v = new float[10];
        n.Voltage([s], 1, v);
        Assert.That(v, Is.All.EqualTo(0f));
    }

    [Test]
    public void SilentNeuronWithMaximumAtZero_ReportsPositiveZero()
    {
        var n = new Tempotron(1, 2, 10, [1f, -1f]);
        var spikes = new float[2];
        n.SpikeTimes([-1f], 1, spikes);
        Assert.That(spikes, Is.EqualTo(new[] { 0f, 0f }));
        Assert.That(float.IsNegative(spikes[0]) || float.IsNegative(spikes[1]), Is.False);
        n.SpikeTimes([0f], 1, spikes);
        Assert.That(spikes[1], Is.EqualTo(0f), "a negative PSP peaks at t = 0 (value 0)");
    }

    [Test]
    public void MatchesDenseReference_OnRandomCases([Range(0, 29)] int seed)
    {
        var rng = new Random(500 + seed);
        var inF = new[] { 1, 2, 3, 7, 15, 16, 17, 31, 33, 64, 65, 130 }[rng.Next(12)];
        var outF = new[] { 1, 2, 3, 7, 8, 9, 10, 16, 17, 33 }[rng.Next(10)];
        var t = new[] { 1, 2, 5, 17, 64, 100, 151, 300 }[rng.Next(8)];
        var batch = rng.Next(1, 10);
        var (fast, reference) = Pair(inF, outF, t, rng, scale: rng.Next(2) == 0 ? 1.0 : 0.05);
        var s = RandomSpikes(rng, batch * inF, t, integerOnly: seed % 3 == 0);
        var sd = Array.ConvertAll(s, x => (double)x);

        var v = TestData.Padded(batch * outF * t);
        fast.Voltage(s, batch, v.AsSpan(TestData.Pad, batch * outF * t));
        TestData.AssertPaddingIntact(v, batch * outF * t);
        var vmax = TestData.Padded(batch * outF);
        fast.MaxVoltage(s, batch, vmax.AsSpan(TestData.Pad, batch * outF));
        TestData.AssertPaddingIntact(vmax, batch * outF);
        var spikes = new float[batch * outF];
        fast.SpikeTimes(s, batch, spikes);

        var vRef = reference.Voltage(sd, batch);
        var (maxRef, argRef) = reference.MaxVoltage(sd, batch);
        for (var b = 0; b < batch; b++)
        {
            for (var o = 0; o < outF; o++)
            {
                var tol = reference.Tolerance(o);
                var k = (b * outF) + o;
                for (var tt = 0; tt < t; tt++)
                {
                    Assert.That(v[TestData.Pad + (k * t) + tt], Is.EqualTo(vRef[(k * t) + tt]).Within(tol), $"V[{b},{o},{tt}] seed {seed}");
                }

                Assert.That(vmax[TestData.Pad + k], Is.EqualTo(maxRef[k]).Within(tol), $"vMax[{b},{o}]");
                var expected = maxRef[k] >= reference.VThreshold ? argRef[k] : -argRef[k];
                if (spikes[k] != expected)
                {
                    // Allowed only where the top two grid voltages are within the bound (or the max sits on the threshold).
                    var second = double.NegativeInfinity;
                    for (var tt = 0; tt < t; tt++)
                    {
                        if (tt != argRef[k])
                        {
                            second = Math.Max(second, vRef[(k * t) + tt]);
                        }
                    }

                    var nearTie = maxRef[k] - second <= tol || Math.Abs(maxRef[k] - reference.VThreshold) <= tol;
                    Assert.That(nearTie, Is.True, $"spike time [{b},{o}] = {spikes[k]}, expected {expected}");
                }
            }
        }
    }

    [Test]
    public void VectorBoundaryOutputSizes_MatchReference([ValueSource(typeof(TestData), nameof(TestData.VectorBoundarySizes))] int outF)
    {
        var rng = new Random(outF);
        var (fast, reference) = Pair(9, outF, 23, rng);
        var s = RandomSpikes(rng, 2 * 9, 23);
        var vmax = new float[2 * outF];
        fast.MaxVoltage(s, 2, vmax);
        var (maxRef, _) = reference.MaxVoltage(Array.ConvertAll(s, x => (double)x), 2);
        for (var k = 0; k < vmax.Length; k++)
        {
            Assert.That(vmax[k], Is.EqualTo(maxRef[k]).Within(reference.Tolerance(k % outF)));
        }
    }

    [Test]
    public void BatchParallelism_IsBitIdentical()
    {
        var rng = new Random(77);
        var (fast, _) = Pair(300, 10, 100, rng);
        var s = RandomSpikes(rng, 37 * 300, 100);
        var v1 = new float[37 * 10 * 100];
        var m1 = new float[37 * 10];
        var s1 = new float[37 * 10];
        fast.Voltage(s, 37, v1);
        fast.MaxVoltage(s, 37, m1);
        fast.SpikeTimes(s, 37, s1);
        fast.MaxDegreeOfParallelism = 3;
        var v2 = new float[v1.Length];
        var m2 = new float[m1.Length];
        var s2 = new float[s1.Length];
        fast.Voltage(s, 37, v2);
        fast.MaxVoltage(s, 37, m2);
        fast.SpikeTimes(s, 37, s2);
        Assert.That(v2, Is.EqualTo(v1));
        Assert.That(m2, Is.EqualTo(m1));
        Assert.That(s2, Is.EqualTo(s1));
    }

    [Test]
    public void ConcurrentCallsOnOneInstance_AgreeWithSequential()
    {
        var rng = new Random(78);
        var (fast, _) = Pair(200, 7, 60, rng);
        var s = RandomSpikes(rng, 5 * 200, 60);
        var expected = new float[5 * 7];
        fast.MaxVoltage(s, 5, expected);
        Parallel.For(0, 32, _ =>
        {
            var got = new float[5 * 7];
            fast.MaxVoltage(s, 5, got);
            Assert.That(got, Is.EqualTo(expected));
        });
    }

    [Test]
    public void TensorOverloads_KeepBatchDimension()
    {
        var n = new Tempotron(2, 3, 8, seed: 1);
        var x = Tensor.Create(new float[] { 0f, 3f }, [1, 2]);
        Assert.That(n.Voltage(x.AsReadOnlyTensorSpan()).Lengths.ToArray(), Is.EqualTo(new nint[] { 1, 3, 8 }));
        Assert.That(n.MaxVoltage(x.AsReadOnlyTensorSpan()).Lengths.ToArray(), Is.EqualTo(new nint[] { 1, 3 }));
        var spikes = n.SpikeTimes(x.AsReadOnlyTensorSpan());
        Assert.That(spikes.Lengths.ToArray(), Is.EqualTo(new nint[] { 1, 3 }));
        var flat = new float[3];
        spikes.AsReadOnlyTensorSpan().FlattenTo(flat);
        var direct = new float[3];
        n.SpikeTimes([0f, 3f], 1, direct);
        Assert.That(flat, Is.EqualTo(direct));
        Assert.Throws<ArgumentException>(() => n.MaxVoltage(Tensor.Create(new float[3], [1, 3]).AsReadOnlyTensorSpan()));
    }

    [Test]
    public void Weights_RoundTrip_AndDefaultInitialisationIsSeededAndBounded()
    {
        var a = new Tempotron(50, 3, 10, seed: 5);
        var b = new Tempotron(50, 3, 10, seed: 5);
        var c = new Tempotron(50, 3, 10, seed: 6);
        var wa = new float[150];
        var wb = new float[150];
        var wc = new float[150];
        a.CopyWeightsTo(wa);
        b.CopyWeightsTo(wb);
        c.CopyWeightsTo(wc);
        Assert.That(wa, Is.EqualTo(wb));
        Assert.That(wa, Is.Not.EqualTo(wc));
        Assert.That(wa.Max(Math.Abs), Is.LessThanOrEqualTo(1 / MathF.Sqrt(50)));
        var d = new Tempotron(50, 3, 10, wa);
        var wd = new float[150];
        d.CopyWeightsTo(wd);
        Assert.That(wd, Is.EqualTo(wa));
        Assert.That(d.GetWeight(2, 49), Is.EqualTo(wa[(2 * 50) + 49]));
    }

    // ---- bad input ---------------------------------------------------------------------------------

    [Test]
    public void Constructor_RejectsBadParameters()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Tempotron(0, 1, 1))!.ParamName, Is.EqualTo("inFeatures"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Tempotron(1, 0, 1))!.ParamName, Is.EqualTo("outFeatures"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Tempotron(1, 1, 0))!.ParamName, Is.EqualTo("t"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Tempotron(1, 1, 1, tau: double.NaN))!.ParamName, Is.EqualTo("tau"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Tempotron(1, 1, 1, tau: -1))!.ParamName, Is.EqualTo("tau"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Tempotron(1, 1, 1, tauS: 0))!.ParamName, Is.EqualTo("tauS"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Tempotron(1, 1, 1, tauS: double.PositiveInfinity))!.ParamName, Is.EqualTo("tauS"));
        var equal = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Tempotron(1, 1, 1, tau: 4, tauS: 4));
        Assert.That(equal!.Message, Does.Contain("tauS != tau"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Tempotron(1, 1, 1, vThreshold: 0))!.ParamName, Is.EqualTo("vThreshold"));
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new Tempotron(2, 1, 1, [1f]))!.ParamName, Is.EqualTo("weights"));
        var nan = Assert.Throws<ArgumentException>(() => _ = new Tempotron(2, 2, 1, [1f, 1f, 1f, float.NaN]));
        Assert.That(nan!.Message, Does.Contain("(out 1, in 1)"));
    }

    [Test]
    public void Forward_RejectsBadArguments()
    {
        var n = new Tempotron(3, 2, 5, seed: 1);
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => n.MaxVoltage(new float[3], 0, new float[2]))!.ParamName, Is.EqualTo("batchSize"));
        var len = Assert.Throws<ArgumentException>(() => n.MaxVoltage(new float[5], 2, new float[4]));
        Assert.That(len!.ParamName, Is.EqualTo("inSpikes"));
        Assert.That(len.Message, Does.Contain("6").And.Contain("5"));
        var dst = Assert.Throws<ArgumentException>(() => n.Voltage(new float[6], 2, new float[19]));
        Assert.That(dst!.ParamName, Is.EqualTo("destination"));
        Assert.That(dst.Message, Does.Contain("20"));
        float[] s = [0f, 1f, 2f, 3f, float.NaN, 1f];
        foreach (var degree in new[] { 1, 2 })
        {
            n.MaxDegreeOfParallelism = degree;
            var ex = Assert.Throws<ArgumentException>(() => n.SpikeTimes(s, 2, new float[4]));
            Assert.That(ex!.Message, Does.Contain("(batch 1, input 1)"));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => n.MaxDegreeOfParallelism = 0);
    }
}
