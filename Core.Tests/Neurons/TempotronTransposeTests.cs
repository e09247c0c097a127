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
}
