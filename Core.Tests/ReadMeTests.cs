using TimingBased.Encoding;
using TimingBased.Events;
using TimingBased.Neurons;
using TimingBased.Optimizers;
using TimingBased.Streaming;

namespace TimingBased.Tests;

/// <summary>The README's code, run as a test: if this changes, change the README (and the other way round).</summary>
public class ReadMeTests
{
    [Test]
    public void ReadMeExample()
    {
        // --- README example begins ---
        var encoder = new GaussianTuning(n: 1, m: 16, xMin: [0f], xMax: [1f]);
        var model = new Tempotron(inFeatures: 784 * 16, outFeatures: 10, t: 100);
        var trainer = new TempotronTrainer(model, new Sgd(lr: 1e-3f));

        float[] pixels = new float[64 * 784];          // [batch 64, n 1, samples 784], values in [0, 1]
        int[] labels = new int[64];                    // [batch 64]
        float[] spikes = new float[64 * 784 * 16];     // [64, 1, 784, 16] = [batch, in] for the Tempotron
        float[] vMax = new float[64 * 10];             // [batch, out]

        encoder.Encode(pixels, batchSize: 64, maxSpikeTime: 100, spikes);
        TrainingStepResult step = trainer.Step(spikes, labels);   // forward + MSE loss + gradient + SGD
        model.MaxVoltage(spikes, batchSize: 64, vMax);             // inference: predict argmax over vMax
        // --- README example ends ---

        // All 64 images are blank and labelled 0: every sample is the same, so all are right or all are wrong, and
        // every row of vMax is the same.
        // --- README events example begins ---
        var events = new SpikeEvents(afferentCount: 784 * 16);
        encoder.Encode(pixels, batchSize: 64, maxSpikeTime: 100, events); // same spikes as the dense Encode, 64 patterns
        model.MaxVoltage(events, vMax);                                      // bit-identical to the dense call
        trainer.Step(events, labels);                                        // likewise

        events.SortByTime();                                                 // streams take events in time order
        var stream = new StreamingTempotron(model);
        var digit = events[0];
        for (int k = 0; k < digit.Count && stream.FirstToFire < 0; k++)
        {
            stream.Push(digit.Afferents[k], digit.Times[k]);                 // O(out) per event, 0 B
        }

        int decision = stream.FirstToFire;                                   // -1: no output fired (yet)
        // --- README events example ends ---

        Assert.That(events.PatternCount, Is.EqualTo(64));
        Assert.That(decision, Is.InRange(-1, 9));
        Assert.That(float.IsFinite(step.Loss), Is.True);
        Assert.That(step.Correct, Is.EqualTo(0).Or.EqualTo(64));
        Assert.That(vMax, Is.All.Not.NaN);
        for (var b = 1; b < 64; b++)
        {
            Assert.That(vMax.AsSpan(b * 10, 10).ToArray(), Is.EqualTo(vMax.AsSpan(0, 10).ToArray()), $"sample {b}");
        }
    }

    [Test]
    public void ReadMeTwoLayerExample()
    {
        var rng = new Random(1);
        float[] spikes = [.. Enumerable.Range(0, 64 * 784 * 16).Select(_ => rng.Next(4) == 0 ? rng.Next(100) : -1f)];
        int[] labels = [.. Enumerable.Range(0, 64).Select(b => b % 10)];
        float[] vMax = new float[64 * 10];

        // --- README two-layer example begins ---
        var hidden = new Tempotron(inFeatures: 784 * 16, outFeatures: 100, t: 100);
        var output = new Tempotron(inFeatures: 100, outFeatures: 10, t: 100);
        var (tape1, tape2) = (new TempotronTape(), new TempotronTape());  // what each forward saves for its backward
        float[] s1 = new float[64 * 100], dv = new float[64 * 10], ds1 = new float[64 * 100];
        float[] dW1 = new float[hidden.WeightCount], dW2 = new float[output.WeightCount];

        hidden.SpikeTimes(tape1, spikes, batchSize: 64, s1);       // [batch, 100] spike times, as SpikingJelly stacks them
        output.MaxVoltage(tape2, s1, batchSize: 64, vMax);
        float loss = output.LossBackward(vMax, labels, dv);        // MSE on vMax, and dL/dvMax
        output.MaxVoltageBackward(tape2, dv, dW2, ds1);            // dL/dW2, and dL/ds1 for the layer below
        hidden.SpikeTimesBackward(tape1, ds1, dW1, []);            // through the soft arg-max; the forward is not rerun
        hidden.ApplyGradient(new Adam(1e-3f), dW1);                // keep one optimizer per model across steps
        // --- README two-layer example ends ---

        // The tapes give the plain calls' gradients, bit for bit (the plain calls recompute the forward).
        var plain1 = new float[dW1.Length];
        var plain2 = new float[dW2.Length];
        var plainDs1 = new float[ds1.Length];
        var h = new Tempotron(784 * 16, 100, 100);
        var o = new Tempotron(100, 10, 100);
        h.SpikeTimes(spikes, 64, s1);
        o.MaxVoltage(s1, 64, vMax);
        Assert.That(o.LossBackward(vMax, labels, dv), Is.EqualTo(loss));
        o.MaxVoltageBackward(s1, 64, dv, plain2, plainDs1);
        h.SpikeTimesBackward(spikes, 64, plainDs1, plain1, []);
        Assert.That(dW2, Is.EqualTo(plain2));
        Assert.That(ds1, Is.EqualTo(plainDs1));
        Assert.That(dW1, Is.EqualTo(plain1));
    }

    [Test]
    public void ReadMeExactExample()
    {
        // --- README exact example begins ---
        var patterns = new SpikeEvents(afferentCount: 3);
        patterns.AddPattern(afferents: [0, 2, 1], times: [4.0, 5.5, 30.0]);   // ms, any order
        var neuron = new ExactTempotron(afferents: 3, outputs: 1, window: 100);   // tau 15, tauS 3.75, theta 1
        neuron.SetWeights([0.6, -0.2, 0.7]);
        var result = new ExactTempotronOutput[1];
        neuron.Evaluate(patterns, result);        // Fired, CrossingTime (exact), VMax, TMax
        var rule = new TempotronRule(neuron, learningRate: 1e-2, momentum: 0.99);
        int errors = rule.Step(patterns, pattern: 0, targets: [false]);    // the tempotron rule, online
        // --- README exact example ends ---

        Assert.That(result[0].Fired, Is.True);
        Assert.That(result[0].CrossingTime, Is.InRange(4.0, 30.0));
        Assert.That(errors, Is.EqualTo(1));
        Assert.That(neuron.GetWeight(0, 0), Is.LessThan(0.6));
    }

    [Test]
    public void ReadMeEncoderExample()
    {
        var encoder = new GaussianTuning(n: 1, m: 4, xMin: [0f], xMax: [1f]);
        float[] x = [0.1f, 0.5f, 0.9f];
        var spikes = new float[x.Length * encoder.M];
        encoder.Encode(x, batchSize: 1, maxSpikeTime: 100, spikes);
        Assert.That(spikes, Is.EqualTo(new float[] { 42, 10, 85, -1, 92, 25, 25, 92, -1, 85, 10, 42 }));
    }
}
