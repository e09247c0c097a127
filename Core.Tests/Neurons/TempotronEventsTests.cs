using TimingBased.Encoding;
using TimingBased.Events;
using TimingBased.Neurons;
using TimingBased.Optimizers;

namespace TimingBased.Tests.Neurons;

/// <summary>The grid model on spike events: bit-identical to the dense path on the same spikes.</summary>
public class TempotronEventsTests
{
    /// <summary>Events in three orders: afferent order (AddDense), shuffled, and the encoder's output.</summary>
    private static SpikeEvents Events(float[] dense, int inputs, int order, Random rng)
    {
        var events = new SpikeEvents(inputs);
        if (order == 0)
        {
            events.AddDense(dense);
            return events;
        }

        for (var p = 0; p < dense.Length / inputs; p++)
        {
            var listed = Enumerable.Range(0, inputs).Where(i => dense[(p * inputs) + i] >= 0 && float.IsFinite(dense[(p * inputs) + i])).OrderBy(_ => rng.Next()).ToArray();
            events.AddPattern(listed, [.. listed.Select(i => (double)dense[(p * inputs) + i])]);
        }

        return events;
    }

    [Test]
    public void Forward_Backward_AndTraining_FromEvents_AreTheDenseResults(
        [Values(1, 10, 17)] int outs, [Values] bool integerTimes, [Values(0, 1)] int order, [Values(1, 2)] int degree)
    {
        var rng = new Random(outs + (integerTimes ? 50 : 0) + (order * 7));
        const int inputs = 45, t = 21, batch = 5; // an odd batch: a pair and a single in the grouped forward
        var dense = TempotronForwardTests.RandomSpikes(rng, batch * inputs, t, integerTimes);
        var events = Events(dense, inputs, order, rng);
        var weights = TestData.Uniform(rng, outs * inputs, -0.3f, 0.5f);
        var labels = Enumerable.Range(0, batch).Select(_ => rng.Next(outs)).ToArray();
        var upstream = TestData.Uniform(rng, batch * outs, -1f, 1f);
        var model = new Tempotron(inputs, outs, t, weights) { MaxDegreeOfParallelism = degree };

        foreach (var (name, size, dense1, events1) in new (string, int, Action<float[]>, Action<float[]>)[]
        {
            ("Voltage", batch * outs * t, d => model.Voltage(dense, batch, d), d => model.Voltage(events, d)),
            ("MaxVoltage", batch * outs, d => model.MaxVoltage(dense, batch, d), d => model.MaxVoltage(events, d)),
            ("SpikeTimes", batch * outs, d => model.SpikeTimes(dense, batch, d), d => model.SpikeTimes(events, d)),
        })
        {
            var a = new float[size];
            var b = new float[size];
            dense1(a);
            events1(b);
            Assert.That(b, Is.EqualTo(a), name);
        }

        var dW = new float[outs * inputs];
        var dIn = new float[batch * inputs];
        var eW = new float[outs * inputs];
        var eIn = new float[batch * inputs];
        model.SpikeTimesBackward(dense, batch, upstream, dW, dIn);
        model.SpikeTimesBackward(events, upstream, eW, eIn);
        Assert.That((eW, eIn), Is.EqualTo((dW, dIn)), "SpikeTimesBackward");
        model.MaxVoltageBackward(dense, batch, upstream, dW, dIn);
        model.MaxVoltageBackward(events, upstream, eW, eIn);
        Assert.That((eW, eIn), Is.EqualTo((dW, dIn)), "MaxVoltageBackward");
        Assert.That(model.LossGradient(events, labels, eW), Is.EqualTo(model.LossGradient(dense, labels, dW)));
        Assert.That(eW, Is.EqualTo(dW), "LossGradient");

        var twin = new Tempotron(inputs, outs, t, weights) { MaxDegreeOfParallelism = degree };
        var stepDense = new TempotronTrainer(model, new Sgd(0.01f)).Step(dense, labels);
        var stepEvents = new TempotronTrainer(twin, new Sgd(0.01f)).Step(events, labels);
        Assert.That(stepEvents, Is.EqualTo(stepDense));
        var w1 = new float[outs * inputs];
        var w2 = new float[outs * inputs];
        model.CopyWeightsTo(w1);
        twin.CopyWeightsTo(w2);
        Assert.That(w2, Is.EqualTo(w1), "weights after a step");

        // Evaluation from events runs the event forward: the same loss and count as the dense evaluation.
        var trainer = new TempotronTrainer(model, new Sgd(0.01f));
        Assert.That(trainer.Evaluate(events, labels), Is.EqualTo(trainer.Evaluate(dense, labels)), "Evaluate");
    }

    [Test]
    public void EvaluateOnEvents_WithBadInput_ThrowsNamingIt()
    {
        var model = new Tempotron(6, 3, 10, seed: 1);
        var trainer = new TempotronTrainer(model, new Sgd(0.1f));
        var events = new SpikeEvents(6);
        events.AddPattern([0, 2], [1.0, 3.0]);
        events.AddPattern([1], [2.0]);
        Assert.Throws<ArgumentNullException>(() => trainer.Evaluate((SpikeEvents)null!, [0, 1]));
        Assert.That(Assert.Throws<ArgumentException>(() => trainer.Evaluate(events, [0]))!.ParamName, Is.EqualTo("labels"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Evaluate(events, [0, 3]))!.ParamName, Is.EqualTo("labels"));
        Assert.That(Assert.Throws<ArgumentException>(() => trainer.Evaluate(new SpikeEvents(5), [0]))!.ParamName, Is.EqualTo("inSpikes"));
        var twice = new SpikeEvents(6);
        twice.AddPattern([4, 4], [1.0, 2.0]);
        Assert.That(Assert.Throws<ArgumentException>(() => trainer.Evaluate(twice, [0]))!.ParamName, Is.EqualTo("inSpikes"));
    }

    [Test]
    public void EncoderEvents_GiveTheDenseForward()
    {
        var rng = new Random(9);
        var encoder = new GaussianTuning(1, 16, [0f], [1f]);
        var pixels = TestData.Uniform(rng, 5 * 60, 0f, 1f);
        for (var k = 0; k < pixels.Length; k += 3)
        {
            pixels[k] = 0f;
        }

        var dense = new float[pixels.Length * 16];
        encoder.Encode(pixels, 5, 100, dense);
        var events = new SpikeEvents(60 * 16);
        encoder.Encode(pixels, 5, 100, events);
        var model = new Tempotron(60 * 16, 10, 100, seed: 3);
        var a = new float[50];
        var b = new float[50];
        model.MaxVoltage(dense, 5, a);
        model.MaxVoltage(events, b);
        Assert.That(b, Is.EqualTo(a));
    }

    [Test]
    public void BadEvents_ThrowAndWriteNothing()
    {
        var model = new Tempotron(4, 2, 10);
        var events = new SpikeEvents(4);
        events.AddPattern([1, 2], [1.0, 2.0]);
        events.AddPattern([3, 0, 3], [1.0, 2.0, 3.0]); // afferent 3 twice
        var destination = new float[4];
        Array.Fill(destination, 7f);
        var e = Assert.Throws<ArgumentException>(() => model.MaxVoltage(events, destination))!;
        Assert.That(e.ParamName, Is.EqualTo("inSpikes"));
        Assert.That(e.Message, Does.Contain("afferent 3"));
        Assert.That(destination, Is.All.EqualTo(7f));
        Assert.That(Assert.Throws<ArgumentException>(() => model.MaxVoltage(new SpikeEvents(5), destination))!.ParamName, Is.EqualTo("inSpikes"));
        Assert.That(Assert.Throws<ArgumentException>(() => model.MaxVoltage(new SpikeEvents(4), destination))!.ParamName, Is.EqualTo("inSpikes"));
        Assert.Throws<ArgumentNullException>(() => model.MaxVoltage((SpikeEvents)null!, destination));
    }
}
