using TimingBased.Neurons;
using TimingBased.Neurons.Kernels;

namespace TimingBased.Tests.Neurons;

/// <summary>
/// The forward of wide layers, tile by tile over groups of 16 samples, against the sample-by-sample full-width path
/// (the scalar path, which the path tests tie to every other path): the same bits, for widths around the tiles,
/// batches around the groups, mixed integer and fractional samples, one and two threads, and with a tape.
/// </summary>
public class TempotronTiledForwardTests
{
    private const int T = 21;

    /// <summary>The paths that run the tiled forward, or one "none" case where no path does (so the run reports it skipped).</summary>
    public static IEnumerable<string> TiledPaths =>
        KernelPaths.Supported.Any(p => p >= KernelPath.Vector256)
            ? KernelPaths.Supported.Where(p => p >= KernelPath.Vector256).Select(p => p.ToString())
            : ["none"];

    [Test]
    public void TiledForward_GivesTheFullWidthPathsBits(
        [ValueSource(nameof(TiledPaths))] string path, [Values(17, 32, 48, 100)] int outs, [Values(1, 15, 16, 17, 33)] int batch,
        [Values(1, 2)] int degree, [Values] bool withTape)
    {
        if (path == "none")
        {
            Assert.Ignore("no path of this process has 256-bit vectors, which the tiled forward needs.");
        }

        var rng = new Random((outs * 100) + batch);
        const int inputs = 75;
        var spikes = TempotronForwardTests.RandomSpikes(rng, batch * inputs, T, integerOnly: true);
        if (batch > 2)
        {
            // One sample with fractional times (integrated at full width inside a tiled group).
            Array.Copy(TempotronForwardTests.RandomSpikes(rng, inputs, T), 0, spikes, inputs, inputs);
        }

        var weights = TestData.Uniform(rng, outs * inputs, -0.4f, 0.6f);
        var tiled = new Tempotron(inputs, outs, T, weights) { MaxDegreeOfParallelism = degree, Path = Enum.Parse<KernelPath>(path) };
        var plain = new Tempotron(inputs, outs, T, weights) { Path = KernelPath.Scalar };
        var tape = new TempotronTape();

        var expected = new float[batch * outs * T];
        var actual = new float[expected.Length];
        plain.Voltage(spikes, batch, expected);
        tiled.Voltage(spikes, batch, actual);
        Assert.That(actual, Is.EqualTo(expected), "voltages");

        var expectedMax = new float[batch * outs];
        var actualMax = new float[batch * outs];
        plain.MaxVoltage(spikes, batch, expectedMax);
        if (withTape)
        {
            tiled.MaxVoltage(tape, spikes, batch, actualMax);
        }
        else
        {
            tiled.MaxVoltage(spikes, batch, actualMax);
        }

        Assert.That(actualMax, Is.EqualTo(expectedMax), "maxima");

        plain.SpikeTimes(spikes, batch, expectedMax);
        if (withTape)
        {
            tiled.SpikeTimes(tape, spikes, batch, actualMax);
        }
        else
        {
            tiled.SpikeTimes(spikes, batch, actualMax);
        }

        Assert.That(actualMax, Is.EqualTo(expectedMax), "spike times");
    }

    [Test]
    public void TiledForward_ReportsTheFirstNaN_AndWritesNothing([Values(1, 2)] int degree)
    {
        const int inputs = 9, outs = 40, batch = 40;
        var model = new Tempotron(inputs, outs, T, seed: 4) { MaxDegreeOfParallelism = degree };
        var spikes = new float[batch * inputs];
        spikes[(35 * inputs) + 2] = float.NaN; // in the third group
        spikes[(20 * inputs) + 7] = float.NaN; // in the second: the first in (batch, input) order
        var destination = Enumerable.Repeat(5f, batch * outs).ToArray();

        var error = Assert.Throws<ArgumentException>(() => model.SpikeTimes(spikes, batch, destination));

        Assert.That(error!.Message, Does.Contain("(batch 20, input 7)"));
        Assert.That(destination, Is.All.EqualTo(5f));
    }

    [Test]
    public void TrainingAndBackward_WithANaN_ReportTheFirst_AndChangeNothing([Values(10, 40)] int outs, [Values(1, 2)] int degree)
    {
        // The backward of a grouped layer runs each group's forward and phase 1 together; a NaN in a later group is
        // found by its worker, and the smallest coordinate is reported once every group is done.
        const int inputs = 9, batch = 9;
        var model = new Tempotron(inputs, outs, T, seed: 6) { MaxDegreeOfParallelism = degree };
        var trainer = new TempotronTrainer(model, new TimingBased.Optimizers.Sgd(0.5f));
        var spikes = new float[batch * inputs];
        spikes[(7 * inputs) + 2] = float.NaN;
        spikes[(4 * inputs) + 5] = float.NaN;
        var labels = new int[batch];
        var before = new float[model.WeightCount];
        model.CopyWeightsTo(before);

        Assert.That(Assert.Throws<ArgumentException>(() => trainer.Step(spikes, labels))!.Message, Does.Contain("(batch 4, input 5)"));
        var dW = Enumerable.Repeat(3f, model.WeightCount).ToArray();
        Assert.That(Assert.Throws<ArgumentException>(() => model.LossGradient(spikes, labels, dW))!.Message, Does.Contain("(batch 4, input 5)"));

        var after = new float[model.WeightCount];
        model.CopyWeightsTo(after);
        Assert.That(after, Is.EqualTo(before));
        Assert.That(dW, Is.All.EqualTo(3f));
    }

    [Test]
    public void LongWindows_RunSampleBySample_WithTheSameBits([Values(16, 40)] int outs)
    {
        // 16 planes of T × outStride floats would exceed the group budget: these layers take the per-sample path, in
        // the forward, the backward and with a tape, and still give the scalar path's bits.
        const int inputs = 7, batch = 3, t = 20_000;
        var rng = new Random(outs);
        var spikes = TempotronForwardTests.RandomSpikes(rng, batch * inputs, t, integerOnly: true);
        var weights = TestData.Uniform(rng, outs * inputs, -0.4f, 0.6f);
        var model = new Tempotron(inputs, outs, t, weights) { MaxDegreeOfParallelism = 2 };
        var plain = new Tempotron(inputs, outs, t, weights) { Path = KernelPath.Scalar };
        var expected = new float[batch * outs];
        var actual = new float[batch * outs];
        plain.SpikeTimes(spikes, batch, expected);
        var tape = new TempotronTape();
        model.SpikeTimes(tape, spikes, batch, actual);
        Assert.That(actual, Is.EqualTo(expected));

        var upstream = TestData.Uniform(rng, batch * outs, -1f, 1f);
        var expectedW = new float[model.WeightCount];
        var actualW = new float[model.WeightCount];
        plain.SpikeTimesBackward(spikes, batch, upstream, expectedW, []);
        model.SpikeTimesBackward(tape, upstream, actualW, []);
        Assert.That(actualW, Is.EqualTo(expectedW));
    }
}
