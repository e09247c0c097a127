using TimingBased.Events;
using TimingBased.IO;
using TimingBased.Neurons;
using TimingBased.Optimizers;

namespace TimingBased.Tests.Serving;

/// <summary>A frozen model refuses every write before it changes anything, and reads the same bits as before.</summary>
public class FreezeTests
{
    private static float[] Weights(Tempotron m)
    {
        var w = new float[m.WeightCount];
        m.CopyWeightsTo(w);
        return w;
    }

    private static double[] Weights(int count, Action<Span<double>> copy)
    {
        var w = new double[count];
        copy(w);
        return w;
    }

    private static void AssertRefused(TestDelegate write) =>
        Assert.That(write, Throws.InvalidOperationException.With.Message.Contains("frozen").And.Message.Contains("nothing was changed"));

    [Test]
    public void GridModel_RefusesEveryWriter_AndReadsTheSame()
    {
        var model = new Tempotron(6, 3, 12, seed: 4);
        var twin = new Tempotron(6, 3, 12, seed: 4);
        var before = Weights(model);
        var file = TempotronSafetensors.ToBytes(new Tempotron(6, 3, 12, seed: 5));
        model.Freeze();
        model.Freeze(); // idempotent
        Assert.That(model.IsFrozen, Is.True);
        var spikes = new float[] { 0, 3, -1, 7, 2, 11, 1, -1, 5, 4, 0, 9 };
        var labels = new[] { 1, 2 };
        AssertRefused(() => model.SetWeights(new float[18]));
        AssertRefused(() => model.ApplyGradient(new Sgd(0.1f), new float[18]));
        AssertRefused(() => new TempotronTrainer(model, new Sgd(0.1f)).Step(spikes, labels));
        var events = new SpikeEvents(6);
        events.AddDense(spikes);
        AssertRefused(() => new TempotronTrainer(model, new Adam(0.1f)).Step(events, labels));
        AssertRefused(() => TempotronSafetensors.LoadInto(model, file));
        Assert.That(Weights(model), Is.EqualTo(before));

        var got = new float[6];
        var want = new float[6];
        model.MaxVoltage(spikes, 2, got);
        twin.MaxVoltage(spikes, 2, want);
        Assert.That(got, Is.EqualTo(want));
        var gw = new float[18];
        var gi = new float[12];
        Assert.That(() => model.MaxVoltageBackward(spikes, 2, [1, 1, 1, 1, 1, 1], gw, gi), Throws.Nothing, "a backward only reads");
    }

    [Test]
    public void ExactModel_RefusesEveryWriter()
    {
        var model = new ExactTempotron(4, 2, window: 50);
        model.RandomizeWeights(1, 0.5);
        var file = TempotronSafetensors.ToBytes(model);
        var before = Weights(8, model.CopyWeightsTo);
        var rule = new TempotronRule(model, 0.1);
        model.Freeze();
        Assert.That(model.IsFrozen, Is.True);
        var events = new SpikeEvents(4);
        events.AddPattern([0, 1, 2], [1.0, 5.0, 9.0]);
        AssertRefused(() => model.SetWeights(new double[8]));
        AssertRefused(() => model.RandomizeWeights(2));
        AssertRefused(() => rule.Step(events, 0, [true, true]));
        AssertRefused(() => rule.Cycle(events, [true, true]));
        AssertRefused(() => TempotronSafetensors.LoadInto(model, file));
        Assert.That(Weights(8, model.CopyWeightsTo), Is.EqualTo(before));
        Assert.That(() => model.Evaluate(events[0], new ExactTempotronOutput[2]), Throws.Nothing);
    }

    [Test]
    public void MultiSpikeModel_RefusesEveryWriter()
    {
        var model = new MultiSpikeTempotron(4, 1, window: 50);
        model.RandomizeWeights(1, 0.5);
        var file = TempotronSafetensors.ToBytes(model);
        var before = Weights(4, model.CopyWeightsTo);
        var rule = new MultiSpikeRule(model, 0.1);
        model.Freeze();
        var events = new SpikeEvents(4);
        events.AddPattern([0, 1, 2], [1.0, 5.0, 9.0]);
        AssertRefused(() => model.SetWeights(new double[4]));
        AssertRefused(() => model.RandomizeWeights(2));
        AssertRefused(() => rule.Step(events[0], [3]));
        AssertRefused(() => rule.Cycle(events, [3]));
        AssertRefused(() => rule.Batch(events, [3]));
        AssertRefused(() => TempotronSafetensors.LoadInto(model, file));
        Assert.That(Weights(4, model.CopyWeightsTo), Is.EqualTo(before));
        Assert.That(() => model.SpikeCount(events[0], 0, 1.0), Throws.Nothing);
    }
}
