using TimingBased.IO;
using TimingBased.Neurons;
using TimingBased.Tests.Reference;
using static TimingBased.Tests.Neurons.TempotronBackwardTests;

namespace TimingBased.Tests.Neurons;

/// <summary>
/// SpikingJelly's whole range of time constants (any positive <c>tau != tauS</c>, so <c>tau &lt; tauS</c> with a negative
/// <c>V0</c>, and <c>tau</c> close to <c>tauS</c> with a large one), and gradients of layers wider than one 8-lane
/// vector (9 to 40 outputs: the 16-wide, tiled and AVX-512 backward kernels), each against the double reference and
/// central finite differences of it.
/// </summary>
public class TempotronTimeConstantTests
{
    /// <summary>Time constants SpikingJelly accepts: swapped defaults, the case, and near-equal pairs either way.</summary>
    public static readonly CaseShape[] Constants =
    [
        new(Tau: 5, TauS: 8),
        new(Tau: 3.75, TauS: 15),
        new(Tau: 15, TauS: 14.9),
        new(Tau: 14.9, TauS: 15),
        new(Tau: 7, TauS: 7.05),
    ];

    /// <summary>Default time constants on wide layers, and one <c>tau &lt; tauS</c> wide case.</summary>
    public static readonly CaseShape[] WideShapes =
    [
        new(MinOutputs: 9, MaxOutputs: 17),
        new(MinOutputs: 17, MaxOutputs: 40),
        new(Tau: 4, TauS: 9, MinOutputs: 9, MaxOutputs: 40),
    ];

    [Test]
    public void TauBelowTauS_IsAcceptedWithANegativeV0_AndGivesThePositivePspOfTheSwappedPair()
    {
        var m = new Tempotron(1, 1, 40, [1f], tau: 5, tauS: 8);
        var swapped = new Tempotron(1, 1, 40, [1f], tau: 8, tauS: 5);
        Assert.That(m.V0, Is.LessThan(0));
        Assert.That(m.V0, Is.EqualTo(-swapped.V0).Within(1e-12 * swapped.V0));
        Assert.That(m.TPeak, Is.EqualTo(swapped.TPeak).Within(1e-12 * swapped.TPeak));

        var v = new float[40];
        var vs = new float[40];
        m.Voltage([2f], 1, v);
        swapped.Voltage([2f], 1, vs);
        for (var t = 0; t < 40; t++)
        {
            Assert.That(v[t], Is.GreaterThanOrEqualTo(0f), $"V[{t}]: the PSP is positive");
            Assert.That(v[t], Is.EqualTo(vs[t]).Within(1e-6), $"V[{t}]: K is symmetric in (tau, tauS)");
        }

        var max = new float[1];
        m.MaxVoltage([0f], 1, max);
        var reference = new TempotronReference(1, 1, 40, [1.0], tau: 5, tauS: 8);
        Assert.That(max[0], Is.EqualTo(reference.MaxVoltage([0.0], 1).Max[0]).Within(1e-6));
    }

    [Test]
    public void Forward_MatchesTheReference([ValueSource(nameof(Constants))] CaseShape shape, [Range(0, 5)] int seed)
    {
        var c = MakeCase(900 + seed, allowIntegers: seed % 2 == 0, shape: shape);
        var v = new float[c.Batch * c.Reference.Out * c.Reference.T];
        c.Fast.Voltage(c.Spikes, c.Batch, v);
        var vRef = c.Reference.Voltage(c.SpikesD, c.Batch);
        var max = new float[c.Batch * c.Reference.Out];
        c.Fast.MaxVoltage(c.Spikes, c.Batch, max);
        var (maxRef, _) = c.Reference.MaxVoltage(c.SpikesD, c.Batch);
        for (var k = 0; k < vRef.Length; k++)
        {
            Assert.That(v[k], Is.EqualTo(vRef[k]).Within(c.Reference.Tolerance(k / c.Reference.T % c.Reference.Out)), $"V[{k}]");
        }

        for (var k = 0; k < maxRef.Length; k++)
        {
            Assert.That(max[k], Is.EqualTo(maxRef[k]).Within(c.Reference.Tolerance(k % c.Reference.Out)), $"vMax[{k}]");
        }
    }

    [Test]
    public void Gradients_MatchFiniteDifferences_ForEveryTimeConstantPair([ValueSource(nameof(Constants))] CaseShape shape, [Range(0, 3)] int seed) =>
        AssertGradientsMatchFiniteDifferences(MakeCase(1000 + seed, allowIntegers: false, shape: shape), seed);

    [Test]
    public void Gradients_MatchFiniteDifferences_OnWideLayers([ValueSource(nameof(WideShapes))] CaseShape shape, [Range(0, 3)] int seed) =>
        AssertGradientsMatchFiniteDifferences(MakeCase(1100 + seed, allowIntegers: false, shape: shape), seed);

    [Test]
    public void ModelFile_RoundTripsTauBelowTauS_BitExact()
    {
        var model = new Tempotron(6, 3, 20, tau: 2.5, tauS: 11, seed: 4);
        var loaded = TempotronSafetensors.Load(TempotronSafetensors.ToBytes(model));
        Assert.That(loaded.Tau, Is.EqualTo(2.5));
        Assert.That(loaded.TauS, Is.EqualTo(11));
        Assert.That(loaded.V0, Is.EqualTo(model.V0));
        var w = new float[model.WeightCount];
        var wl = new float[model.WeightCount];
        model.CopyWeightsTo(w);
        loaded.CopyWeightsTo(wl);
        Assert.That(wl, Is.EqualTo(w));

        var s = new float[] { 0f, 3.5f, -1f, 7f, 12.25f, 1f };
        var a = new float[3];
        var b = new float[3];
        model.MaxVoltage(s, 1, a);
        loaded.MaxVoltage(s, 1, b);
        Assert.That(b, Is.EqualTo(a));
    }

    /// <summary>
    /// The MSE loss moves by <c>2 |vMax - theta| e / batch</c> per output when <c>vMax</c> moves by its bound <c>e</c>
    /// (<see cref="TempotronReference.Tolerance"/>, which grows with <c>|V0|</c>: near-equal time constants cancel in the
    /// kernel's difference of exponentials, in float32 as in SpikingJelly).
    /// </summary>
    private static double LossTolerance(TempotronReference r, double[] max, int batch)
    {
        var bound = 1e-6;
        for (var k = 0; k < max.Length; k++)
        {
            var e = r.Tolerance(k % r.Out);
            bound += ((2 * Math.Abs(max[k] - r.VThreshold)) + e) * e / batch;
        }

        return bound;
    }

    /// <summary>MaxVoltage, SpikeTimes (soft arg-max), Voltage and the loss: weights by finite differences, inputs too.</summary>
    private static void AssertGradientsMatchFiniteDifferences(Case c, int seed)
    {
        var r = c.Reference;
        var rng = new Random(seed);
        var up = RandomUpstream(rng, c.Batch * r.Out);
        var dW = new float[c.Fast.WeightCount];
        var dIn = new float[c.Spikes.Length];
        c.Fast.MaxVoltageBackward(c.Spikes, c.Batch, Array.ConvertAll(up, x => (float)x), dW, dIn);
        double MaxObjective() => r.MaxVoltageObjective(c.SpikesD, c.Batch, up);
        AssertClose(dW, FiniteDifferenceWeights(r, MaxObjective), "MaxVoltage dW");
        AssertClose(dIn, FiniteDifferenceInputs(c, MaxObjective), "MaxVoltage dIn");

        var (max, _) = r.MaxVoltage(c.SpikesD, c.Batch);
        var sign = Array.ConvertAll(max, m => m >= r.VThreshold ? 1.0 : -1.0);
        c.Fast.SpikeTimesBackward(c.Spikes, c.Batch, Array.ConvertAll(up, x => (float)x), dW, dIn);
        AssertClose(dW, FiniteDifferenceWeights(r, () => r.SoftSpikeObjective(c.SpikesD, c.Batch, up, sign)), "SpikeTimes dW", relative: 5e-3);

        var upV = RandomUpstream(rng, c.Batch * r.Out * r.T);
        c.Fast.VoltageBackward(c.Spikes, c.Batch, Array.ConvertAll(upV, x => (float)x), dW, dIn);
        double VoltageObjective() => r.VoltageObjective(c.SpikesD, c.Batch, upV);
        AssertClose(dW, FiniteDifferenceWeights(r, VoltageObjective), "Voltage dW");
        AssertClose(dIn, FiniteDifferenceInputs(c, VoltageObjective), "Voltage dIn");

        var labels = Enumerable.Range(0, c.Batch).Select(_ => rng.Next(r.Out)).ToArray();
        var loss = c.Fast.LossGradient(c.Spikes, labels, dW);
        Assert.That(loss, Is.EqualTo(r.Loss(c.SpikesD, labels, paper: false)).Within(LossTolerance(r, max, c.Batch)));
        AssertClose(dW, FiniteDifferenceWeights(r, () => r.Loss(c.SpikesD, labels, paper: false)), "loss dW");
    }
}
