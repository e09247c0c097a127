using TimingBased.Encoding;
using TimingBased.Events;
using TimingBased.Neurons;
using TimingBased.Neurons.Kernels;
using TimingBased.Optimizers;
using TimingBased.Streaming;

namespace TimingBased.Tests.Neurons.Kernels;

/// <summary>
/// Every narrower instruction-set path against the best one, in one process, for what <see cref="TempotronPathTests"/>
/// does not reach: event lists, tapes, two threads, the optimizers, the encoder and the stream. The results must be the
/// same bits (the input gradient's dot products excepted, as there). The best path itself is checked against the
/// references by the other tests; a process with one path reports these skipped.
/// </summary>
public class PathCoverageTests
{
    public static IEnumerable<string> Paths => TempotronPathTests.Paths;

    private static KernelPath Narrower(string path)
    {
        if (path == "none")
        {
            Assert.Ignore("this process has one kernel path, the best: nothing to compare it with.");
        }

        return Enum.Parse<KernelPath>(path);
    }

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];

    [Test]
    public void EventsTapesAndTwoThreads_GiveTheBestPathsBits([ValueSource(nameof(Paths))] string path, [Values(10, 16, 40)] int outs)
    {
        var narrower = Narrower(path);
        var rng = new Random(outs);
        const int inputs = 71, t = 19, batch = 6;
        var spikes = Neurons.TempotronForwardTests.RandomSpikes(rng, batch * inputs, t, integerOnly: true);
        var labels = Enumerable.Range(0, batch).Select(_ => rng.Next(outs)).ToArray();
        var weights = TestData.Uniform(rng, outs * inputs, -0.3f, 0.5f);
        var upstream = TestData.Uniform(rng, batch * outs, -1f, 1f);
        var events = new SpikeEvents(inputs);
        events.AddDense(spikes);

        var best = Run(KernelPaths.Best);
        var other = Run(narrower);
        for (var k = 0; k < best.Length; k++)
        {
            Assert.That(Bits(other[k]), Is.EqualTo(Bits(best[k])), $"result {k}");
        }

        float[][] Run(KernelPath kernelPath)
        {
            var model = new Tempotron(inputs, outs, t, weights) { Path = kernelPath, MaxDegreeOfParallelism = 2 };
            var vMax = new float[batch * outs];
            model.MaxVoltage(events, vMax);
            var dW = new float[outs * inputs];
            var dIn = new float[batch * inputs];
            model.SpikeTimesBackward(events, upstream, dW, dIn);
            var tape = new TempotronTape();
            var times = new float[batch * outs];
            model.SpikeTimes(tape, spikes, batch, times);
            var dWTape = new float[outs * inputs];
            model.SpikeTimesBackward(tape, upstream, dWTape, new float[batch * inputs]);
            var sgd = new Sgd(0.01f, momentum: 0.5f) { Path = kernelPath };
            var step = new TempotronTrainer(model, sgd).Step(events, labels);
            var after = new float[outs * inputs];
            model.CopyWeightsTo(after);
            return [vMax, dW, times, dWTape, [step.Loss, step.Correct], after];
        }
    }

    [Test]
    public void Optimizers_GiveTheBestPathsBits([ValueSource(nameof(Paths))] string path, [Values(1, 15, 16, 17, 1000)] int length)
    {
        var narrower = Narrower(path);
        foreach (var make in new Func<KernelPath, IOptimizer>[]
        {
            p => new Sgd(0.1f) { Path = p },
            p => new Sgd(0.1f, momentum: 0.9f, weightDecay: 0.01f, nesterov: true) { Path = p },
            p => new Adam(0.01f, weightDecay: 0.1f) { Path = p },
        })
        {
            Assert.That(Bits(Steps(make(narrower))), Is.EqualTo(Bits(Steps(make(KernelPaths.Best)))), make(KernelPaths.Best).GetType().Name);
        }

        float[] Steps(IOptimizer optimizer)
        {
            var rng = new Random(length);
            var parameters = TestData.Uniform(rng, length, -1f, 1f);
            for (var step = 0; step < 3; step++)
            {
                var gradient = TestData.Uniform(rng, length, -0.5f, 0.5f);
                gradient[0] = step == 1 ? 0f : gradient[0]; // a +0 gradient: the masked commit leaves its lane unwritten
                optimizer.Step(parameters, gradient);
            }

            return parameters;
        }
    }

    [Test]
    public void Encoder_GivesTheBestPathsBits_DenseAndEvents([ValueSource(nameof(Paths))] string path, [Values(4, 16, 33)] int m)
    {
        var narrower = Narrower(path);
        var rng = new Random(m);

        // Image-like rows: runs of a background value (the block replay), a few repeated levels (the row cache), and
        // exact halves of the grid.
        var x = new float[3 * 200];
        for (var k = 0; k < x.Length; k++)
        {
            x[k] = k % 50 < 30 ? 0f : rng.Next(4) switch { 0 => 0.5f, 1 => 1f, 2 => 0.25f, _ => (float)rng.NextDouble() };
        }

        var (denseBest, eventsBest) = Encode(KernelPaths.Best);
        var (denseOther, eventsOther) = Encode(narrower);
        Assert.That(Bits(denseOther), Is.EqualTo(Bits(denseBest)));
        Assert.That(eventsOther.Afferents.ToArray(), Is.EqualTo(eventsBest.Afferents.ToArray()));
        Assert.That(eventsOther.Times.ToArray(), Is.EqualTo(eventsBest.Times.ToArray()));

        (float[] Dense, SpikeEvents Events) Encode(KernelPath kernelPath)
        {
            var encoder = new GaussianTuning(1, m, [0f], [1f]) { Path = kernelPath };
            var dense = new float[x.Length * m];
            encoder.Encode(x, 3, 100, dense);
            var events = new SpikeEvents(200 * m);
            encoder.Encode(x, 3, 100, events);
            return (dense, events);
        }
    }

    [Test]
    public void Stream_GivesTheBestPathsBits([ValueSource(nameof(Paths))] string path, [Values(3, 16, 21)] int outs)
    {
        var narrower = Narrower(path);
        var rng = new Random(outs);
        const int inputs = 40, t = 30;
        var model = new Tempotron(inputs, outs, t, TestData.Uniform(rng, outs * inputs, -0.2f, 0.6f));
        var events = Enumerable.Range(0, 60).Select(_ => (Afferent: rng.Next(inputs), Time: Math.Round(rng.NextDouble() * t * 4) / 4)).OrderBy(e => e.Time).ToArray();

        var best = Run(KernelPaths.Best);
        var other = Run(narrower);
        Assert.That(other, Is.EqualTo(best));

        int[] Run(KernelPath kernelPath)
        {
            var stream = new StreamingTempotron(model) { Path = kernelPath };
            foreach (var (afferent, time) in events)
            {
                stream.Push(afferent, time);
            }

            stream.AdvanceTo(t);
            return [.. Bits(stream.MaxVoltages.ToArray()), .. Bits(stream.Voltages.ToArray()), .. stream.CrossingTimes.ToArray().Select(c => (int)(double.IsNaN(c) ? -1 : c)), stream.FirstToFire];
        }
    }
}
