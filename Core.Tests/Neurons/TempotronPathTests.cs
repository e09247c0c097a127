using TimingBased.Neurons;
using TimingBased.Neurons.Kernels;
using TimingBased.Optimizers;

namespace TimingBased.Tests.Neurons;

/// <summary>
/// The whole Tempotron (forward, every backward, a training step) on every instruction-set path this CPU supports,
/// in one process: bit-identical to the best path (which the other tests compare with the reference), except the
/// input gradient, whose vector dot products sum per lane. The best path itself is not compared with itself: a process
/// with one path reports the test skipped.
/// </summary>
public class TempotronPathTests
{
    public static IEnumerable<string> Paths =>
        KernelPaths.Supported.Count > 1 ? KernelPaths.Supported.Where(p => p != KernelPaths.Best).Select(p => p.ToString()) : ["none"];

    [Test]
    public void EveryPath_GivesTheBestPathsResults(
        [ValueSource(nameof(Paths))] string path, [Values(1, 10, 16, 17, 33)] int outs, [Values] bool integerTimes)
    {
        if (path == "none")
        {
            Assert.Ignore("this process has one kernel path, the best: nothing to compare it with.");
        }

        var rng = new Random(outs + (integerTimes ? 100 : 0));
        const int inputs = 67, t = 23, batch = 5;
        var spikes = TempotronForwardTests.RandomSpikes(rng, batch * inputs, t, integerTimes);
        var labels = Enumerable.Range(0, batch).Select(_ => rng.Next(outs)).ToArray();
        var weights = TestData.Uniform(rng, outs * inputs, -0.3f, 0.5f);
        var upstream = TestData.Uniform(rng, batch * outs, -1f, 1f);
        var upstreamV = TestData.Uniform(rng, batch * outs * t, -1f, 1f);

        var best = Run(new Tempotron(inputs, outs, t, weights), KernelPaths.Best);
        var other = Run(new Tempotron(inputs, outs, t, weights), Enum.Parse<KernelPath>(path));
        for (var k = 0; k < best.Length; k++)
        {
            if (k == 4 || k == 6 || k == 8)
            {
                Assert.That(other[k], Is.EqualTo(best[k]).Within(1e-5f), $"input gradient, result {k}");
            }
            else
            {
                Assert.That(other[k], Is.EqualTo(best[k]), $"result {k}");
            }
        }

        float[][] Run(Tempotron model, KernelPath kernelPath)
        {
            model.Path = kernelPath;
            var v = new float[batch * outs * t];
            var vMax = new float[batch * outs];
            var times = new float[batch * outs];
            model.Voltage(spikes, batch, v);
            model.MaxVoltage(spikes, batch, vMax);
            model.SpikeTimes(spikes, batch, times);
            var dW1 = new float[outs * inputs];
            var dIn1 = new float[batch * inputs];
            model.MaxVoltageBackward(spikes, batch, upstream, dW1, dIn1);
            var dW2 = new float[outs * inputs];
            var dIn2 = new float[batch * inputs];
            model.SpikeTimesBackward(spikes, batch, upstream, dW2, dIn2);
            var dW3 = new float[outs * inputs];
            var dIn3 = new float[batch * inputs];
            model.VoltageBackward(spikes, batch, upstreamV, dW3, dIn3);
            var dW4 = new float[outs * inputs];
            var loss = model.LossGradient(spikes, labels, dW4);
            var step = new TempotronTrainer(model, new Sgd(0.01f, momentum: 0.5f)).Step(spikes, labels);
            var after = new float[outs * inputs];
            model.CopyWeightsTo(after);
            return [v, vMax, times, dW1, dIn1, dW2, dIn2, dW3, dIn3, dW4, [loss, step.Loss, step.Correct], after];
        }
    }
}
