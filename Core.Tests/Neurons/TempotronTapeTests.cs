using TimingBased.Neurons;
using TimingBased.Neurons.Kernels;
using TimingBased.Optimizers;

namespace TimingBased.Tests.Neurons;

/// <summary>
/// <see cref="TempotronTape"/>: a backward from a recorded forward gives the plain backward's bits, and misuse (no
/// recording, a second backward, another model, changed weights) throws without writing.
/// </summary>
public class TempotronTapeTests
{
    private const int T = 16;

    [Test]
    public void TapeBackward_IsBitIdenticalToThePlainBackward(
        [Values(1, 7, 40)] int inFeatures, [Values(1, 3, 10, 17)] int outFeatures, [Values(1, 5)] int batch,
        [Values] bool integerOnly, [Values(1, 2)] int degree, [Values] bool spikeTimes)
    {
        var rng = new Random((inFeatures * 1000) + (outFeatures * 10) + batch);
        var model = new Tempotron(inFeatures, outFeatures, T, seed: inFeatures + outFeatures) { MaxDegreeOfParallelism = degree };
        var spikes = TempotronForwardTests.RandomSpikes(rng, batch * inFeatures, T, integerOnly);
        if (!integerOnly && batch > 1)
        {
            // A batch that mixes samples with and without fractional times.
            Array.Copy(TempotronForwardTests.RandomSpikes(rng, inFeatures, T, integerOnly: true), 0, spikes, 0, inFeatures);
        }

        var upstream = TestData.Uniform(rng, batch * outFeatures, -1f, 1f);
        upstream[0] = 0f; // an output without upstream (skipped by the soft arg-max)
        var tape = new TempotronTape();

        var expectedOut = new float[batch * outFeatures];
        var actualOut = new float[batch * outFeatures];
        var expectedW = new float[model.WeightCount];
        var actualW = new float[model.WeightCount];
        var expectedIn = new float[spikes.Length];
        var actualIn = new float[spikes.Length];
        if (spikeTimes)
        {
            model.SpikeTimes(spikes, batch, expectedOut);
            model.SpikeTimesBackward(spikes, batch, upstream, expectedW, expectedIn);
            model.SpikeTimes(tape, spikes, batch, actualOut);
        }
        else
        {
            model.MaxVoltage(spikes, batch, expectedOut);
            model.MaxVoltageBackward(spikes, batch, upstream, expectedW, expectedIn);
            model.MaxVoltage(tape, spikes, batch, actualOut);
        }

        Assert.That(tape.IsRecorded && tape.BatchSize == batch);
        Array.Fill(spikes, float.NaN); // the backward must not read the caller's input again
        if (spikeTimes)
        {
            model.SpikeTimesBackward(tape, upstream, actualW, actualIn);
        }
        else
        {
            model.MaxVoltageBackward(tape, upstream, actualW, actualIn);
        }

        Assert.That(actualOut, Is.EqualTo(expectedOut), "forward");
        Assert.That(actualW, Is.EqualTo(expectedW), "weight gradient");
        Assert.That(actualIn, Is.EqualTo(expectedIn), "input gradient");
        Assert.That(tape.IsRecorded, Is.False, "a recording serves one backward");
    }

    [Test]
    public void TapeBackward_OfAWideLayer_ComputesAgainTheTilesTheForwardDidNotKeep(
        [Values] bool spikeTimesForward, [Values] bool integerOnly, [Values(1, 2)] int degree, [Values] bool inputGradient)
    {
        // A wide layer's recording keeps only the column tiles with an output that fired (a spike-time forward) or none
        // (a vMax forward); a spike-time backward with an upstream for every output computes the others again. Compared
        // with the scalar path's plain backward, which keeps whole planes and never computes a tile twice.
        const int inFeatures = 150, outFeatures = 40, batch = 21; // three 16-output tiles; groups of 16 and 5
        var rng = new Random(spikeTimesForward ? 11 : 12);
        var weights = TestData.Uniform(rng, outFeatures * inFeatures, -0.1f, 0.1f);
        var model = new Tempotron(inFeatures, outFeatures, T, weights) { MaxDegreeOfParallelism = degree };
        var reference = new Tempotron(inFeatures, outFeatures, T, weights) { Path = KernelPath.Scalar };
        var spikes = TempotronForwardTests.RandomSpikes(rng, batch * inFeatures, T, integerOnly);
        if (!integerOnly)
        {
            // Integer-time samples (tiles kept or not) beside the fractional ones (whole planes kept).
            Array.Copy(TempotronForwardTests.RandomSpikes(rng, 7 * inFeatures, T, integerOnly: true), 0, spikes, 3 * inFeatures, 7 * inFeatures);
        }

        var upstream = TestData.Uniform(rng, batch * outFeatures, -1f, 1f);
        var expectedOut = new float[batch * outFeatures];
        var expectedW = new float[model.WeightCount];
        var expectedIn = inputGradient ? new float[spikes.Length] : [];
        var actualOut = new float[batch * outFeatures];
        var actualW = new float[model.WeightCount];
        var actualIn = inputGradient ? new float[spikes.Length] : [];
        var tape = new TempotronTape();
        if (spikeTimesForward)
        {
            reference.SpikeTimes(spikes, batch, expectedOut);
            model.SpikeTimes(tape, spikes, batch, actualOut);
            Assert.That(expectedOut.Count(s => s >= 0), Is.InRange(1, expectedOut.Length - 1), "some outputs fire, some do not");
        }
        else
        {
            reference.MaxVoltage(spikes, batch, expectedOut);
            model.MaxVoltage(tape, spikes, batch, actualOut);
        }

        reference.SpikeTimesBackward(spikes, batch, upstream, expectedW, expectedIn);
        model.SpikeTimesBackward(tape, upstream, actualW, actualIn);
        Assert.That(actualOut, Is.EqualTo(expectedOut), "forward");
        Assert.That(actualW, Is.EqualTo(expectedW), "weight gradient");
        if (inputGradient)
        {
            Assert.That(actualIn, Is.EqualTo(expectedIn).Within(1e-5f), "input gradient (vector dot products sum per lane)");
        }
    }

    [Test]
    public void TapeBackward_WithOnlyTheWeightGradient_MatchesThePlainCall([Values] bool integerOnly)
    {
        // Without an input gradient the backward compacts the recorded lists (spikes after the last live row go).
        var rng = new Random(3);
        var model = new Tempotron(33, 4, T, seed: 3);
        var spikes = TempotronForwardTests.RandomSpikes(rng, 6 * 33, T, integerOnly);
        var upstream = TestData.Uniform(rng, 6 * 4, -1f, 1f);
        var s = new float[24];
        var expected = new float[model.WeightCount];
        var actual = new float[model.WeightCount];
        var tape = new TempotronTape();
        model.SpikeTimesBackward(spikes, 6, upstream, expected, []);
        model.SpikeTimes(tape, spikes, 6, s);
        model.SpikeTimesBackward(tape, upstream, actual, []);
        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public void TwoLayerChain_WithTapes_MatchesThePlainChain_AndAllocatesNothingOnOneThread()
    {
        var rng = new Random(5);
        const int batch = 4, inFeatures = 300, hiddenFeatures = 20, outFeatures = 3;
        var hidden = new Tempotron(inFeatures, hiddenFeatures, T, seed: 1);
        var output = new Tempotron(hiddenFeatures, outFeatures, T, seed: 2);
        var spikes = TempotronForwardTests.RandomSpikes(rng, batch * inFeatures, T, integerOnly: true);
        int[] labels = [0, 1, 2, 1];
        var s1 = new float[batch * hiddenFeatures];
        var vMax = new float[batch * outFeatures];
        var dv = new float[vMax.Length];
        var dS1 = new float[s1.Length];
        var expected1 = new float[hidden.WeightCount];
        var expected2 = new float[output.WeightCount];
        hidden.SpikeTimes(spikes, batch, s1);
        output.MaxVoltage(s1, batch, vMax);
        output.LossBackward(vMax, labels, dv);
        output.MaxVoltageBackward(s1, batch, dv, expected2, dS1);
        hidden.SpikeTimesBackward(spikes, batch, dS1, expected1, []);

        var tape1 = new TempotronTape();
        var tape2 = new TempotronTape();
        var dW1 = new float[hidden.WeightCount];
        var dW2 = new float[output.WeightCount];
        void Chain()
        {
            hidden.SpikeTimes(tape1, spikes, batch, s1);
            output.MaxVoltage(tape2, s1, batch, vMax);
            output.LossBackward(vMax, labels, dv);
            output.MaxVoltageBackward(tape2, dv, dW2, dS1);
            hidden.SpikeTimesBackward(tape1, dS1, dW1, []);
        }

        Chain();
        Assert.That(dW2, Is.EqualTo(expected2), "output layer");
        Assert.That(dW1, Is.EqualTo(expected1), "hidden layer");
        TestData.AssertSteadyStateAllocatesNothing(Chain);
    }

    [Test]
    public void Backward_WithoutAnUnusedRecordingOfThisModelAtItsWeights_Throws()
    {
        var model = new Tempotron(5, 2, T, seed: 1);
        var other = new Tempotron(5, 2, T, seed: 1);
        float[] spikes = [0, 1, 2, 3, 4];
        var upstream = new float[2];
        var s = new float[2];
        var dW = new float[model.WeightCount];
        var tape = new TempotronTape();

        Assert.Throws<ArgumentNullException>(() => model.SpikeTimes((TempotronTape)null!, spikes, 1, s));
        Assert.Throws<ArgumentNullException>(() => model.SpikeTimesBackward((TempotronTape)null!, upstream, dW, []));
        Assert.That(Assert.Throws<InvalidOperationException>(() => model.SpikeTimesBackward(tape, upstream, dW, []))!.Message, Does.Contain("no recording"));

        model.SpikeTimes(tape, spikes, 1, s);
        Assert.That(Assert.Throws<InvalidOperationException>(() => other.SpikeTimesBackward(tape, upstream, dW, []))!.Message, Does.Contain("another model"));
        Assert.That(tape.IsRecorded, "a refused backward keeps the recording");

        // A wrong upstream is an argument error that writes nothing and keeps the recording.
        Array.Fill(dW, 9f);
        Assert.Throws<ArgumentException>(() => model.SpikeTimesBackward(tape, new float[3], dW, []));
        Assert.That(dW, Is.All.EqualTo(9f));
        Assert.That(tape.IsRecorded);

        model.SpikeTimesBackward(tape, upstream, dW, []);
        Assert.That(Assert.Throws<InvalidOperationException>(() => model.SpikeTimesBackward(tape, upstream, dW, []))!.Message, Does.Contain("no recording"));

        model.SpikeTimes(tape, spikes, 1, s);
        model.SetWeights(new float[model.WeightCount]);
        Assert.That(Assert.Throws<InvalidOperationException>(() => model.SpikeTimesBackward(tape, upstream, dW, []))!.Message, Does.Contain("weights changed"));

        model.MaxVoltage(tape, spikes, 1, s);
        model.ApplyGradient(new Sgd(0.1f), dW);
        Assert.Throws<InvalidOperationException>(() => model.MaxVoltageBackward(tape, upstream, dW, []));
    }

    [Test]
    public void Forward_WithANaN_Throws_AndLeavesNoRecording([Values(1, 2)] int degree)
    {
        var model = new Tempotron(4, 2, T, seed: 1) { MaxDegreeOfParallelism = degree };
        var tape = new TempotronTape();
        var s = new float[4];
        model.SpikeTimes(tape, new float[8], 2, s);
        Assert.That(tape.IsRecorded);

        float[] bad = [0, 1, 2, 3, 0, float.NaN, 2, 3];
        Assert.That(Assert.Throws<ArgumentException>(() => model.SpikeTimes(tape, bad, 2, s))!.Message, Does.Contain("(batch 1, input 1)"));
        Assert.That(tape.IsRecorded, Is.False);
        Assert.That(tape.BatchSize, Is.Zero);
    }

    [Test]
    public void Tape_GrowsAndServesOtherShapes()
    {
        var tape = new TempotronTape();
        var rng = new Random(9);
        foreach (var (inFeatures, outFeatures, batch) in new[] { (3, 2, 1), (50, 12, 7), (4, 1, 2) })
        {
            var model = new Tempotron(inFeatures, outFeatures, T, seed: inFeatures);
            var spikes = TempotronForwardTests.RandomSpikes(rng, batch * inFeatures, T);
            var upstream = TestData.Uniform(rng, batch * outFeatures, -1f, 1f);
            var expected = new float[model.WeightCount];
            var actual = new float[model.WeightCount];
            model.MaxVoltageBackward(spikes, batch, upstream, expected, []);
            model.MaxVoltage(tape, spikes, batch, new float[batch * outFeatures]);
            model.MaxVoltageBackward(tape, upstream, actual, []);
            Assert.That(actual, Is.EqualTo(expected), $"({inFeatures}, {outFeatures}), batch {batch}");
        }
    }
}
