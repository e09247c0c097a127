using TimingBased.Neurons;

namespace TimingBased.Tests.Neurons;

/// <summary>The weight-layout transposes (public <c>[out, in]</c> to and from the padded input-major layout), one thread and split over threads.</summary>
public class TempotronTransposeTests
{
    [Test]
    public void WeightsRoundTrip_AndGradients_AreTheSameWithThreads([Values(1, 2, 3)] int degree, [Values(5, 16, 21)] int outFeatures)
    {
        // Above the threaded transpose's 2^18 weights, with an input count that is not a multiple of the 16-input blocks.
        var inFeatures = ((1 << 18) / outFeatures) + 37;
        var rng = new Random(outFeatures);
        var weights = TestData.Uniform(rng, inFeatures * outFeatures, -1f, 1f);
        var model = new Tempotron(inFeatures, outFeatures, 12, weights) { MaxDegreeOfParallelism = degree };
        var back = new float[weights.Length];
        model.CopyWeightsTo(back);
        Assert.That(back, Is.EqualTo(weights), "public -> internal -> public");

        var spikes = Enumerable.Range(0, 2 * inFeatures).Select(_ => rng.Next(50) == 0 ? rng.Next(12) : -1f).ToArray();
        int[] labels = [0, outFeatures - 1];
        var expected = new float[weights.Length];
        new Tempotron(inFeatures, outFeatures, 12, weights).LossGradient(spikes, labels, expected);
        var actual = new float[weights.Length];
        model.LossGradient(spikes, labels, actual);
        Assert.That(actual, Is.EqualTo(expected), "the loss gradient in the public layout");
    }

    [Test]
    public void PublicLayoutCalls_OnOneThread_AllocateNothing()
    {
        // Every call that transposes (the public-layout backward outputs, ApplyGradient, the weight copies) and the
        // two-layer chain, on one thread, once warm: 0 B, for a layer small enough and one large enough to be split
        // when threaded.
        foreach (var (inFeatures, outFeatures) in new[] { (40, 3), (20000, 16) })
        {
            var rng = new Random(inFeatures);
            var hidden = new Tempotron(inFeatures, outFeatures, 12, seed: 1);
            var output = new Tempotron(outFeatures, 2, 12, seed: 2);
            var spikes = Enumerable.Range(0, 4 * inFeatures).Select(_ => rng.Next(20) == 0 ? rng.Next(12) : -1f).ToArray();
            int[] labels = [0, 1, 1, 0];
            var s1 = new float[4 * outFeatures];
            var vMax = new float[8];
            var dv = new float[8];
            var dS1 = new float[s1.Length];
            var dW1 = new float[hidden.WeightCount];
            var dW2 = new float[output.WeightCount];
            var dIn = new float[spikes.Length];
            var optimizer = new TimingBased.Optimizers.Adam();
            var optimizer2 = new TimingBased.Optimizers.Adam();
            void Run()
            {
                hidden.SpikeTimes(spikes, 4, s1);
                output.MaxVoltage(s1, 4, vMax);
                output.LossBackward(vMax, labels, dv);
                output.MaxVoltageBackward(s1, 4, dv, dW2, dS1);
                hidden.SpikeTimesBackward(spikes, 4, dS1, dW1, dIn);
                hidden.ApplyGradient(optimizer, dW1);
                output.ApplyGradient(optimizer2, dW2);
                hidden.CopyWeightsTo(dW1);
                output.LossGradient(s1, labels, dW2);
            }

            Run();
            TestData.AssertSteadyStateAllocatesNothing(Run);
        }
    }
}
