using TimingBased.Events;
using TimingBased.Neurons;
using TimingBased.Optimizers;

namespace TimingBased.Tests.Neurons;

public class PredictionTests
{
    [TestCase(new[] { 0.5f, 0.7f, 0.2f }, 1)]
    [TestCase(new[] { 0.7f, 0.7f, 0.2f }, 0, Description = "an exact tie goes to the lowest index")]
    [TestCase(new[] { 0.2f, 0.7f, 0.7f }, 1, Description = "an exact tie goes to the lowest index")]
    [TestCase(new[] { float.NaN, 0.1f, 0.3f }, 2, Description = "NaN never wins")]
    [TestCase(new[] { 0.1f, float.NaN, -0.3f }, 0)]
    [TestCase(new[] { float.NaN, float.NaN }, 0, Description = "no score wins: output 0")]
    [TestCase(new[] { float.NegativeInfinity, float.NegativeInfinity }, 0)]
    [TestCase(new[] { float.NegativeInfinity, -1e38f }, 1)]
    [TestCase(new[] { -0f, 0f }, 0, Description = "-0 and +0 tie")]
    [TestCase(new[] { 3f }, 0)]
    public void Class_IsTheFirstLargestScore(float[] scores, int expected) =>
        Assert.That(Prediction.Class(scores), Is.EqualTo(expected));

    [Test]
    public void Classes_DoesEachRow_AndChecksLengths()
    {
        var destination = new int[3];
        Prediction.Classes([1, 2, 5, 4, 3, 3], 2, destination);
        Assert.That(destination, Is.EqualTo(new[] { 1, 0, 0 }));
        Assert.That(() => Prediction.Classes([1, 2, 3], 2, destination), Throws.ArgumentException.With.Property("ParamName").EqualTo("scores"));
        Assert.That(() => Prediction.Classes([], 2, destination), Throws.ArgumentException.With.Property("ParamName").EqualTo("scores"));
        Assert.That(() => Prediction.Classes([1, 2], 0, destination), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("outputs"));
        Assert.That(() => Prediction.Classes([1, 2, 3, 4, 5, 6, 7, 8], 2, destination), Throws.ArgumentException.With.Property("ParamName").EqualTo("destination"));
        Assert.That(() => Prediction.Class(ReadOnlySpan<float>.Empty), Throws.ArgumentException.With.Property("ParamName").EqualTo("scores"));
    }

    [Test]
    public void ExactOutputs_TakeTheLargestPeak_TiesToTheLowestIndex()
    {
        ExactTempotronOutput[] outputs = [new(false, double.NaN, 0.4, 3), new(true, 2, 1.2, 2.5), new(true, 1, 1.2, 1.5)];
        Assert.That(Prediction.Class(outputs), Is.EqualTo(1));
        Assert.That(() => Prediction.Class(ReadOnlySpan<ExactTempotronOutput>.Empty), Throws.ArgumentException);
    }

    /// <summary>The model's Predict is the rule on its own MaxVoltage, dense and events, single and batch, and the trainer's accuracy counts the same classes.</summary>
    [TestCase(1, 1)]
    [TestCase(7, 3)]
    [TestCase(33, 10)]
    [TestCase(5, 17)]
    public void Predict_IsTheRuleOnThePeaks_AndAgreesWithTheTrainersAccuracy(int batch, int outputs)
    {
        const int inputs = 29;
        const int t = 30;
        var model = new Tempotron(inputs, outputs, t, seed: batch + outputs);
        var rng = new Random(batch * 31 + outputs);
        var spikes = Enumerable.Range(0, batch * inputs).Select(_ => rng.NextDouble() < 0.4 ? -1f : (float)rng.Next(t)).ToArray();
        var labels = Enumerable.Range(0, batch).Select(_ => rng.Next(outputs)).ToArray();

        var peaks = new float[batch * outputs];
        model.MaxVoltage(spikes, batch, peaks);
        var expected = Enumerable.Range(0, batch).Select(b => BruteForceClass(peaks.AsSpan(b * outputs, outputs))).ToArray();

        var got = new int[batch];
        model.Predict(spikes, batch, got);
        Assert.That(got, Is.EqualTo(expected));
        Assert.That(model.Predict(spikes.AsSpan(0, inputs)), Is.EqualTo(expected[0]));

        var events = new SpikeEvents(inputs);
        events.AddDense(spikes);
        var fromEvents = new int[batch];
        model.Predict(events, fromEvents);
        Assert.That(fromEvents, Is.EqualTo(expected));

        var correct = new TempotronTrainer(model, new Sgd(0f)).Evaluate(spikes, labels).Correct;
        Assert.That(correct, Is.EqualTo(expected.Zip(labels).Count(p => p.First == p.Second)));
    }

    [Test]
    public void Predict_ChecksItsArguments_AndAllocatesNothingWhenWarm()
    {
        var model = new Tempotron(4, 3, 10, seed: 1);
        float[] x = [0, 2, -1, 5, 1, 1, 1, 1];
        var destination = new int[2];
        Assert.That(() => model.Predict(x, 2, new int[1]), Throws.ArgumentException.With.Property("ParamName").EqualTo("destination"));
        Assert.That(() => model.Predict(x, 0, destination), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("batchSize"));
        Assert.That(() => model.Predict(x, 3, new int[3]), Throws.ArgumentException.With.Property("ParamName").EqualTo("inSpikes"));
        Assert.That(() => model.Predict((SpikeEvents)null!, destination), Throws.ArgumentNullException);

        // The peaks of one call must fit one array: refused before any scratch is taken, naming batchSize.
        var wide = new Tempotron(1, 1 << 24, 1, seed: 1);
        Assert.That(() => wide.Predict(new float[200], 200, new int[200]),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("batchSize").And.Message.Contains("batch * out"));

        model.Predict(x, 2, destination);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var k = 0; k < 50; k++)
        {
            model.Predict(x, 2, destination);
            _ = model.Predict(x.AsSpan(0, 4));
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    /// <summary>The plain statement of the rule: the smallest index whose score no other score exceeds (NaN excluded), or 0.</summary>
    private static int BruteForceClass(ReadOnlySpan<float> scores)
    {
        for (var o = 0; o < scores.Length; o++)
        {
            var isMax = !float.IsNaN(scores[o]) && scores[o] != float.NegativeInfinity;
            for (var p = 0; p < scores.Length && isMax; p++)
            {
                isMax = !(scores[p] > scores[o]) && !(p < o && scores[p] == scores[o]);
            }

            if (isMax)
            {
                return o;
            }
        }

        return 0;
    }
}
