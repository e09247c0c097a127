using TimingBased.Neurons;
using TimingBased.Tests.Reference;

namespace TimingBased.Tests.Neurons;

public class TempotronBackwardTests
{
    private const double H = 1e-6;

    internal sealed record Case(Tempotron Fast, TempotronReference Reference, int Batch, float[] Spikes, double[] SpikesD);

    /// <summary>What a random case may vary beyond its seed: the time constants and the range of output counts.</summary>
    public sealed record CaseShape(double Tau = Tempotron.DefaultTau, double TauS = Tempotron.DefaultTauS, int MinOutputs = 1, int MaxOutputs = 5);

    /// <summary>A small random problem; spike times are integers or at least 0.05 away from the grid.</summary>
    /// <param name="seed">The seed.</param>
    /// <param name="allowIntegers">Whether some spike times are integers.</param>
    /// <param name="integerOnly">Whether all spike times are integers.</param>
    /// <param name="shape">The time constants and the range of output counts; null for the defaults (1 to 5 outputs).</param>
    internal static Case MakeCase(int seed, bool allowIntegers = true, bool integerOnly = false, CaseShape? shape = null)
    {
        shape ??= new CaseShape();
        var rng = new Random(seed);
        var inF = rng.Next(1, 10);
        var outF = rng.Next(shape.MinOutputs, shape.MaxOutputs + 1);
        var t = rng.Next(5, 41);
        var batch = rng.Next(1, 5);
        var (fast, reference) = TempotronForwardTests.Pair(inF, outF, t, rng, scale: 1.5, shape.Tau, shape.TauS);
        var s = new float[batch * inF];
        for (var k = 0; k < s.Length; k++)
        {
            s[k] = rng.Next(6) switch
            {
                0 => -1f,
                _ when integerOnly => rng.Next(t),
                1 when allowIntegers => rng.Next(t),
                _ => rng.Next(t - 1) + 0.05f + (0.9f * rng.NextSingle()),
            };
        }

        return new Case(fast, reference, batch, s, Array.ConvertAll(s, x => (double)x));
    }

    internal static double[] RandomUpstream(Random rng, int length)
    {
        var up = new double[length];
        for (var k = 0; k < length; k++)
        {
            up[k] = (rng.NextDouble() * 2) - 1;
        }

        return up;
    }

    internal static void AssertClose(float[] actual, double[] expected, string what, double relative = 2e-3)
    {
        var scale = expected.Length == 0 ? 0 : expected.Max(Math.Abs);
        for (var k = 0; k < expected.Length; k++)
        {
            Assert.That(actual[k], Is.EqualTo(expected[k]).Within((relative * Math.Abs(expected[k])) + (1e-3 * scale) + 1e-6),
                $"{what}[{k}]");
        }
    }

    /// <summary>Finite differences of <paramref name="objective"/> with respect to every weight.</summary>
    internal static double[] FiniteDifferenceWeights(TempotronReference r, Func<double> objective)
    {
        var fd = new double[r.W.Length];
        for (var k = 0; k < fd.Length; k++)
        {
            fd[k] = TempotronReference.Central(r.W, k, H, objective);
        }

        return fd;
    }

    /// <summary>Finite differences with respect to every spiking input time (others: 0, as the gradient).</summary>
    internal static double[] FiniteDifferenceInputs(Case c, Func<double> objective)
    {
        var fd = new double[c.SpikesD.Length];
        for (var k = 0; k < fd.Length; k++)
        {
            var s = c.SpikesD[k];
            fd[k] = s >= 0 && s < c.Reference.T - 1 ? TempotronReference.Central(c.SpikesD, k, H, objective) : 0;
        }

        return fd;
    }

    [Test]
    public void MaxVoltageBackward_MatchesFiniteDifferences([Range(0, 24)] int seed)
    {
        var c = MakeCase(100 + seed, allowIntegers: false);
        var up = RandomUpstream(new Random(seed), c.Batch * c.Reference.Out);
        var dW = new float[c.Fast.WeightCount];
        var dIn = new float[c.Spikes.Length];
        c.Fast.MaxVoltageBackward(c.Spikes, c.Batch, Array.ConvertAll(up, x => (float)x), dW, dIn);

        double Objective() => c.Reference.MaxVoltageObjective(c.SpikesD, c.Batch, up);
        AssertClose(dW, FiniteDifferenceWeights(c.Reference, Objective), "dW");
        AssertClose(dIn, FiniteDifferenceInputs(c, Objective), "dIn");
        AssertClose(dW, c.Reference.DenseMaxVoltageWeightGradient(c.SpikesD, c.Batch, up), "dW vs dense");
    }

    [Test]
    public void MaxVoltageBackward_OfALongInputRow_MatchesDenseReference_AcrossGradientBlocks(
        [Values(511, 512, 513, 1100, 1537)] int ins, [Values(1, 2)] int threads)
    {
        // Phase 2 walks the inputs in blocks (512 for rows of up to 16 outputs) and, with threads, in ranges: every
        // boundary must hand each sample's list cursor on, so that no spike is added twice or skipped.
        const int outs = 10, steps = 30, batch = 5;
        var rng = new Random(ins + threads);
        var (fast, reference) = TempotronForwardTests.Pair(ins, outs, steps, rng, scale: 1.5);
        fast.MaxDegreeOfParallelism = threads;
        var s = new float[batch * ins];
        for (var k = 0; k < s.Length; k++)
        {
            s[k] = rng.Next(3) == 0 ? rng.Next(steps) : -1f;
        }

        var up = RandomUpstream(rng, batch * outs);
        var dW = new float[fast.WeightCount];
        fast.MaxVoltageBackward(s, batch, Array.ConvertAll(up, x => (float)x), dW, []);
        AssertClose(dW, reference.DenseMaxVoltageWeightGradient(Array.ConvertAll(s, x => (double)x), batch, up), "dW vs dense");
    }

    [Test]
    public void MaxVoltageBackward_MatchesDenseReference_WithIntegerTimes([Range(0, 9)] int seed)
    {
        var c = MakeCase(200 + seed, integerOnly: seed % 2 == 0); // all-integer samples take the fast path
        var up = RandomUpstream(new Random(seed), c.Batch * c.Reference.Out);
        var dW = new float[c.Fast.WeightCount];
        var dIn = new float[c.Spikes.Length];
        c.Fast.MaxVoltageBackward(c.Spikes, c.Batch, Array.ConvertAll(up, x => (float)x), dW, dIn);
        AssertClose(dW, c.Reference.DenseMaxVoltageWeightGradient(c.SpikesD, c.Batch, up), "dW");
        AssertClose(dIn, c.Reference.DenseMaxVoltageInputGradient(c.SpikesD, c.Batch, up), "dIn (integer times: the t = s term counts)");
        AssertClose(dW, FiniteDifferenceWeights(c.Reference, () => c.Reference.MaxVoltageObjective(c.SpikesD, c.Batch, up)), "dW fd");
    }

    /// <summary>
    /// Wider layers than <see cref="MakeCase"/> builds: 9–20 outputs (16- and 24-float rows, the 512-bit phase-2
    /// path) and up to 700 inputs (several phase-2 blocks), serial and parallel, against the dense gradient.
    /// </summary>
    [Test]
    public void MaxVoltageBackward_MatchesDenseReference_OnWideLayers([Range(0, 7)] int seed)
    {
        var rng = new Random(600 + seed);
        var inF = rng.Next(200, 701);
        var outF = seed < 4 ? rng.Next(9, 21) : rng.Next(33, 70); // one or two tiles, or several
        var t = rng.Next(20, 61);
        var batch = rng.Next(1, 10);
        var (fast, reference) = TempotronForwardTests.Pair(inF, outF, t, rng);
        fast.MaxDegreeOfParallelism = 1 + (seed % 3);
        var spikes = TempotronForwardTests.RandomSpikes(rng, batch * inF, t, integerOnly: seed % 2 == 0);
        var up = RandomUpstream(rng, batch * outF);
        for (var b = 0; b < batch; b += 2)
        {
            Array.Clear(up, b * outF, outF); // samples with no gradient at all take the skip path
        }

        for (var o = 0; o < outF; o += 3)
        {
            for (var b = 0; b < batch; b++)
            {
                up[(b * outF) + o] = 0; // outputs no sample gives a gradient: their rows are written as zeros
            }
        }

        var dW = new float[fast.WeightCount];
        Array.Fill(dW, float.NaN); // every element must be written, the dead outputs' too
        var dIn = new float[spikes.Length];
        Array.Fill(dIn, float.NaN); // every element must be written, the skipped samples' too

        fast.MaxVoltageBackward(spikes, batch, Array.ConvertAll(up, x => (float)x), dW, dIn);

        var spikesD = Array.ConvertAll(spikes, x => (double)x);
        AssertClose(dW, reference.DenseMaxVoltageWeightGradient(spikesD, batch, up), "dW");
        AssertClose(dIn, reference.DenseMaxVoltageInputGradient(spikesD, batch, up), "dIn");

        // The training path (loss gradient, no input gradient) equals the same backward fed the loss's dL/dvMax.
        var labels = Enumerable.Range(0, batch).Select(_ => rng.Next(outF)).ToArray();
        var vMax = new float[batch * outF];
        var gv = new float[vMax.Length];
        fast.MaxVoltage(spikes, batch, vMax);
        fast.LossBackward(vMax, labels, gv);
        var viaUpstream = new float[fast.WeightCount];
        fast.MaxVoltageBackward(spikes, batch, gv, viaUpstream, dIn);
        var viaLoss = new float[fast.WeightCount];
        fast.LossGradient(spikes, labels, viaLoss);
        Assert.That(viaLoss, Is.EqualTo(viaUpstream));
    }

    [Test]
    public void SpikeTimesBackward_MatchesFiniteDifferencesOfTheSoftArgMax([Range(0, 24)] int seed)
    {
        var c = MakeCase(300 + seed, allowIntegers: seed % 2 == 0);
        var up = RandomUpstream(new Random(seed), c.Batch * c.Reference.Out);
        var (max, _) = c.Reference.MaxVoltage(c.SpikesD, c.Batch);
        var sign = Array.ConvertAll(max, m => m >= c.Reference.VThreshold ? 1.0 : -1.0);
        var dW = new float[c.Fast.WeightCount];
        var dIn = new float[c.Spikes.Length];
        c.Fast.SpikeTimesBackward(c.Spikes, c.Batch, Array.ConvertAll(up, x => (float)x), dW, dIn);

        double Objective() => c.Reference.SoftSpikeObjective(c.SpikesD, c.Batch, up, sign);
        AssertClose(dW, FiniteDifferenceWeights(c.Reference, Objective), "dW", relative: 5e-3);
        if (seed % 2 == 1)
        {
            AssertClose(dIn, FiniteDifferenceInputs(c, Objective), "dIn", relative: 5e-3);
        }
    }

    [Test]
    public void SpikeTimesBackward_WithZeroUpstreams_SkipsExactly([Range(0, 9)] int seed)
    {
        // Outputs with a zero upstream (a next layer that does not read them) are skipped: their weight-gradient rows
        // are +0 bit for bit, and the rest still match finite differences, with and without an input gradient.
        var c = MakeCase(700 + seed, allowIntegers: seed % 2 == 0);
        var rng = new Random(seed);
        var outs = c.Reference.Out;
        var up = RandomUpstream(rng, c.Batch * outs);
        for (var k = 0; k < up.Length; k++)
        {
            if (rng.Next(3) > 0 || k % outs == 0)
            {
                up[k] = 0; // most, and output 0 in every sample
            }
        }

        var (max, _) = c.Reference.MaxVoltage(c.SpikesD, c.Batch);
        var sign = Array.ConvertAll(max, m => m >= c.Reference.VThreshold ? 1.0 : -1.0);
        var dW = new float[c.Fast.WeightCount];
        var dIn = new float[c.Spikes.Length];
        c.Fast.SpikeTimesBackward(c.Spikes, c.Batch, Array.ConvertAll(up, x => (float)x), dW, seed % 3 == 0 ? [] : dIn);
        var inFeatures = dW.Length / outs;
        Assert.That(dW.AsSpan(0, inFeatures).ToArray().All(x => BitConverter.SingleToInt32Bits(x) == 0), Is.True, "output 0's row is +0");

        double Objective() => c.Reference.SoftSpikeObjective(c.SpikesD, c.Batch, up, sign);
        AssertClose(dW, FiniteDifferenceWeights(c.Reference, Objective), "dW", relative: 5e-3);
        if (seed % 3 != 0)
        {
            AssertClose(dIn, FiniteDifferenceInputs(c, Objective), "dIn", relative: 5e-3);
        }
    }

    [Test]
    public void WideLayers_WithMostUpstreamsZero_GiveTheWeightGradientOfTheFullRows(
        [Values(40, 100)] int outs, [Values(1, 5, 33)] int batch, [Values(1, 2)] int threads, [Values] bool spikeTimes, [Values] bool tape)
    {
        // Without an input gradient, phase 2 adds only the 16-float column tiles whose gradient column is not all zero;
        // with one it adds whole rows. The weight gradients must be the same bits (a signed zero added to a sum that
        // starts at +0 changes nothing), on the dense and the taped backward, at any degree of parallelism.
        const int ins = 300, steps = 30;
        var rng = new Random((outs * 7) + batch);
        var model = new Tempotron(ins, outs, steps, seed: outs + batch) { MaxDegreeOfParallelism = threads };
        var x = new float[batch * ins];
        for (var k = 0; k < x.Length; k++)
        {
            x[k] = rng.Next(3) == 0 ? rng.Next(steps) : -1f;
        }

        var up = new float[batch * outs];
        for (var b = 0; b < batch; b++)
        {
            // One or two outputs per sample, so most tiles of most samples are dead.
            for (var n = 0; n < 1 + (b % 2); n++)
            {
                up[(b * outs) + rng.Next(outs)] = (float)((rng.NextDouble() * 2) - 1);
            }
        }

        var whole = Enumerable.Repeat(float.NaN, model.WeightCount).ToArray(); // every element must be written
        var tiled = Enumerable.Repeat(float.NaN, model.WeightCount).ToArray();
        var dIn = new float[x.Length];
        var scratch = new float[batch * outs];
        var recording = new TempotronTape();
        void Backward(float[] dW, Span<float> inputGradient)
        {
            if (tape && spikeTimes)
            {
                model.SpikeTimes(recording, x, batch, scratch);
                model.SpikeTimesBackward(recording, up, dW, inputGradient);
            }
            else if (tape)
            {
                model.MaxVoltage(recording, x, batch, scratch);
                model.MaxVoltageBackward(recording, up, dW, inputGradient);
            }
            else if (spikeTimes)
            {
                model.SpikeTimesBackward(x, batch, up, dW, inputGradient);
            }
            else
            {
                model.MaxVoltageBackward(x, batch, up, dW, inputGradient);
            }
        }

        Backward(whole, dIn);
        Backward(tiled, []);

        Assert.That(tiled.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(whole.Select(BitConverter.SingleToInt32Bits)));
        Assert.That(whole.Count(w => w != 0f), Is.GreaterThan(0), "some gradient");
    }

    [Test]
    public void VoltageBackward_MatchesFiniteDifferences([Range(0, 14)] int seed)
    {
        var c = MakeCase(400 + seed, allowIntegers: false);
        var up = RandomUpstream(new Random(seed), c.Batch * c.Reference.Out * c.Reference.T);
        var dW = new float[c.Fast.WeightCount];
        var dIn = new float[c.Spikes.Length];
        c.Fast.VoltageBackward(c.Spikes, c.Batch, Array.ConvertAll(up, x => (float)x), dW, dIn);

        double Objective() => c.Reference.VoltageObjective(c.SpikesD, c.Batch, up);
        AssertClose(dW, FiniteDifferenceWeights(c.Reference, Objective), "dW");
        AssertClose(dIn, FiniteDifferenceInputs(c, Objective), "dIn");
    }

    [Test]
    public void LossGradient_MatchesFiniteDifferences([Range(0, 19)] int seed, [Values] TempotronLoss loss)
    {
        var c = MakeCase(500 + seed);
        var rng = new Random(seed);
        var labels = Enumerable.Range(0, c.Batch).Select(_ => rng.Next(c.Reference.Out)).ToArray();
        var dW = new float[c.Fast.WeightCount];
        var value = c.Fast.LossGradient(c.Spikes, labels, loss, dW);
        var paper = loss == TempotronLoss.PaperCost;
        Assert.That(value, Is.EqualTo(c.Reference.Loss(c.SpikesD, labels, paper)).Within(1e-5 * (1 + Math.Abs(value))));
        AssertClose(dW, FiniteDifferenceWeights(c.Reference, () => c.Reference.Loss(c.SpikesD, labels, paper)), "dW");
    }

    [Test]
    public void MseLoss_SpikingJellyExample()
    {
        var n = new Tempotron(1, 3, 5);
        Assert.That(n.MseLoss([1.5f, 0.5f, 0.5f, 0.5f, 1.2f, 1.4f], [0, 1]), Is.EqualTo(0.08f).Within(1e-7));
        Assert.That(n.Loss([1.5f, 0.5f, 0.5f, 0.5f, 1.2f, 1.4f], [0, 1], TempotronLoss.PaperCost), Is.EqualTo(0.4f).Within(1e-6));
    }

    [Test]
    public void MseGradient_IsThePaperRuleScaledByTwiceTheMarginOverBatch()
    {
        // One sample, so each wrong neuron's row scales by its own 2 |vMax - threshold| / batch.
        var rng = new Random(9);
        var (n, _) = TempotronForwardTests.Pair(20, 4, 30, rng, scale: 1.5);
        var s = TempotronForwardTests.RandomSpikes(rng, 20, 30, integerOnly: true);
        int[] labels = [2];
        var mse = new float[80];
        var paper = new float[80];
        n.LossGradient(s, labels, TempotronLoss.MeanSquaredError, mse);
        n.LossGradient(s, labels, TempotronLoss.PaperCost, paper);
        var vmax = new float[4];
        n.MaxVoltage(s, 1, vmax);
        for (var o = 0; o < 4; o++)
        {
            var scale = 2 * Math.Abs(vmax[o] - 1f) / labels.Length;
            for (var i = 0; i < 20; i++)
            {
                Assert.That(mse[(o * 20) + i], Is.EqualTo(paper[(o * 20) + i] * scale).Within(1e-5));
            }
        }
    }

    [Test]
    public void PaperRule_IsThePspAtTheMaximum()
    {
        // One input at t = 2, target neuron silent: dW = -V0 K(t* - 2) (missed target).
        var n = new Tempotron(1, 1, 20, [0.5f]);
        var dW = new float[1];
        n.LossGradient([2f], [0], TempotronLoss.PaperCost, dW);
        var tStar = 2 + 7; // the PSP peaks 6.93 after the spike: grid maximum 7 steps later
        var expected = -n.V0 * (Math.Exp(-(tStar - 2) / 15.0) - Math.Exp(-(tStar - 2) / 3.75));
        Assert.That(dW[0], Is.EqualTo(expected).Within(1e-6));
    }

    [Test]
    public void Backward_IsBitIdenticalUnderParallelism()
    {
        var rng = new Random(4);
        var (n, _) = TempotronForwardTests.Pair(257, 10, 60, rng);
        var s = TempotronForwardTests.RandomSpikes(rng, 23 * 257, 60);
        var up = Enumerable.Range(0, 23 * 10).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        var labels = Enumerable.Range(0, 23).Select(_ => rng.Next(10)).ToArray();
        float[] Run(int degree, out float[] dIn, out float[] lossGrad)
        {
            n.MaxDegreeOfParallelism = degree;
            var dW = new float[n.WeightCount];
            dIn = new float[s.Length];
            n.SpikeTimesBackward(s, 23, up, dW, dIn);
            lossGrad = new float[n.WeightCount];
            n.LossGradient(s, labels, lossGrad);
            return dW;
        }

        var w1 = Run(1, out var in1, out var l1);
        var w3 = Run(3, out var in3, out var l3);
        Assert.That(w3, Is.EqualTo(w1));
        Assert.That(in3, Is.EqualTo(in1));
        Assert.That(l3, Is.EqualTo(l1));
    }

    [Test]
    public void SilentAndOutOfWindowInputs_GetZeroInputGradient()
    {
        var n = new Tempotron(4, 2, 10, [1f, -1f, 0.5f, 2f, 1f, 1f, 1f, 1f]);
        var dIn = new float[4];
        n.MaxVoltageBackward([-1f, 10f, 9.5f, 3.5f], 1, [1f, 1f], [], dIn);
        Assert.That(dIn[0], Is.Zero);
        Assert.That(dIn[1], Is.Zero);
        Assert.That(dIn[2], Is.Zero);
        Assert.That(dIn[3], Is.Not.Zero);
    }

    [Test]
    public void Backward_RejectsBadArguments()
    {
        var n = new Tempotron(3, 2, 5, seed: 1);
        var s = new float[6];
        Assert.That(Assert.Throws<ArgumentException>(() => n.MaxVoltageBackward(s, 2, new float[3], new float[6], []))!.ParamName, Is.EqualTo("upstream"));
        Assert.That(Assert.Throws<ArgumentException>(() => n.VoltageBackward(s, 2, new float[4], new float[6], []))!.ParamName, Is.EqualTo("upstream"));
        Assert.That(Assert.Throws<ArgumentException>(() => n.MaxVoltageBackward(s, 2, new float[4], new float[5], []))!.ParamName, Is.EqualTo("weightGradient"));
        Assert.That(Assert.Throws<ArgumentException>(() => n.MaxVoltageBackward(s, 2, new float[4], [], new float[5]))!.ParamName, Is.EqualTo("inputGradient"));
        Assert.That(Assert.Throws<ArgumentException>(() => n.MaxVoltageBackward(s, 2, [0, 0, float.NaN, 0], new float[6], []))!.ParamName, Is.EqualTo("upstream"));
        var label = Assert.Throws<ArgumentOutOfRangeException>(() => n.LossGradient(s, [0, 2], new float[6]));
        Assert.That(label!.ParamName, Is.EqualTo("labels"));
        Assert.That(label.Message, Does.Contain("labels[1]").And.Contain("was 2"));
        Assert.Throws<ArgumentOutOfRangeException>(() => n.MseLoss(new float[2], [-1]));
        Assert.Throws<ArgumentException>(() => n.MseLoss(new float[3], [0]));
        Assert.Throws<ArgumentException>(() => n.LossGradient(new float[5], [0, 1], new float[6]));
    }

    [Test]
    public void LongerGradients_GetTheFirstElements_AndTheRestIsUntouched([Values(1, 2)] int threads)
    {
        // The library's rule for every span a call writes: at least its shape; the call writes the first elements.
        var rng = new Random(threads);
        const int inputs = 37, outs = 20, t = 15, batch = 5;
        var spikes = TempotronForwardTests.RandomSpikes(rng, batch * inputs, t);
        var upstream = TestData.Uniform(rng, batch * outs, -1f, 1f);
        var labels = Enumerable.Range(0, batch).Select(k => k % outs).ToArray();
        var model = new Tempotron(inputs, outs, t, seed: 3) { MaxDegreeOfParallelism = threads };
        float[] dW = new float[outs * inputs], dIn = new float[batch * inputs];
        float[] dWLonger = Sentinels(dW.Length + 3), dInLonger = Sentinels(dIn.Length + 1);
        model.SpikeTimesBackward(spikes, batch, upstream, dW, dIn);
        model.SpikeTimesBackward(spikes, batch, upstream, dWLonger, dInLonger);
        var lossGradient = new float[outs * inputs];
        var lossGradientLonger = Sentinels(lossGradient.Length + 2);
        var loss = model.LossGradient(spikes, labels, TempotronLoss.PaperCost, lossGradient);
        var lossLonger = model.LossGradient(spikes, labels, TempotronLoss.PaperCost, lossGradientLonger);
        var vMax = new float[batch * outs];
        model.MaxVoltage(spikes, batch, vMax);
        var dv = new float[vMax.Length];
        var dvLonger = Sentinels(vMax.Length + 1);
        model.LossBackward(vMax, labels, dv);
        model.LossBackward(vMax, labels, dvLonger);

        Assert.That(dWLonger, Is.EqualTo(dW.Concat(Sentinels(3))));
        Assert.That(dInLonger, Is.EqualTo(dIn.Concat(Sentinels(1))));
        Assert.That((lossLonger, lossGradientLonger), Is.EqualTo((loss, lossGradient.Concat(Sentinels(2)).ToArray())));
        Assert.That(dvLonger, Is.EqualTo(dv.Concat(Sentinels(1))));

        static float[] Sentinels(int length) => Enumerable.Repeat(7.5f, length).ToArray();
    }
}
