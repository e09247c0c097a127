using TimingBased.Neurons;
using TimingBased.Optimizers;
using TimingBased.Tests.Reference;

namespace TimingBased.Tests.Neurons;

public class TempotronTrainingTests
{
    /// <summary>A seeded spike-pattern task: each class has a template of spike times; samples jitter it and drop spikes.</summary>
    internal static (float[] Spikes, int[] Labels) PatternTask(int seed, int samples, int inF, int classes, int t)
    {
        var rng = new Random(seed);
        var templates = new float[classes, inF];
        for (var c = 0; c < classes; c++)
        {
            for (var i = 0; i < inF; i++)
            {
                templates[c, i] = rng.Next(3) == 0 ? -1f : rng.Next(t / 2);
            }
        }

        var taskRng = new Random(seed + 1);
        var spikes = new float[samples * inF];
        var labels = new int[samples];
        for (var n = 0; n < samples; n++)
        {
            var c = taskRng.Next(classes);
            labels[n] = c;
            for (var i = 0; i < inF; i++)
            {
                var s = templates[c, i];
                spikes[(n * inF) + i] = s < 0 || taskRng.Next(10) == 0 ? -1f : Math.Max(0, s + taskRng.Next(-1, 2));
            }
        }

        return (spikes, labels);
    }

    [Test]
    public void Trainer_LearnsASpikePatternTask()
    {
        const int inF = 40, classes = 3, t = 40, batch = 16;
        var (spikes, labels) = PatternTask(1, 320, inF, classes, t);
        var model = new Tempotron(inF, classes, t, seed: 3);
        var trainer = new TempotronTrainer(model, new Sgd(0.05f, momentum: 0.9f));
        var first = trainer.Evaluate(spikes, labels);
        for (var epoch = 0; epoch < 15; epoch++)
        {
            for (var k = 0; k + batch <= labels.Length; k += batch)
            {
                trainer.Step(spikes.AsSpan(k * inF, batch * inF), labels.AsSpan(k, batch));
            }
        }

        var last = trainer.Evaluate(spikes, labels);
        Assert.That(last.Loss, Is.LessThan(first.Loss / 4), $"loss {first.Loss} -> {last.Loss}");
        Assert.That(last.Correct, Is.GreaterThan(labels.Length * 9 / 10), "accuracy well above chance (1/3)");
    }

    [Test]
    public void TrainerStep_ReturnsLossAndCorrectBeforeTheUpdate()
    {
        var (spikes, labels) = PatternTask(2, 8, 10, 2, 20);
        var model = new Tempotron(10, 2, 20, seed: 1);
        var trainer = new TempotronTrainer(model, new Sgd(0.1f));
        var before = trainer.Evaluate(spikes, labels);
        var step = trainer.Step(spikes, labels);
        Assert.That(step.Loss, Is.EqualTo(before.Loss).Within(1e-6));
        Assert.That(step.Correct, Is.EqualTo(before.Correct));
    }

    [Test]
    public void TrainerStep_EqualsLossGradientThenSgd()
    {
        var (spikes, labels) = PatternTask(3, 8, 12, 3, 25);
        var a = new Tempotron(12, 3, 25, seed: 2);
        var b = new Tempotron(12, 3, 25, seed: 2);
        new TempotronTrainer(a, new Sgd(0.5f)).Step(spikes, labels);
        var g = new float[b.WeightCount];
        b.LossGradient(spikes, labels, g);
        b.ApplyGradient(new Sgd(0.5f), g);
        var wa = new float[a.WeightCount];
        var wb = new float[b.WeightCount];
        a.CopyWeightsTo(wa);
        b.CopyWeightsTo(wb);
        Assert.That(wa, Is.EqualTo(wb));
    }

    [Test]
    public void TrainerStep_AllocatesNothingAfterWarmUp()
    {
        var (spikes, labels) = PatternTask(4, 64, 300, 10, 100);
        var trainer = new TempotronTrainer(new Tempotron(300, 10, 100, seed: 1), new Adam());
        var vmax = new float[640];
        for (var k = 0; k < 3; k++)
        {
            // Warm-up: scratch grows to the largest batch; lambdas and statics are created on first use.
            trainer.Step(spikes, labels);
            trainer.Step(spikes.AsSpan(0, 300 * 7), labels.AsSpan(0, 7));
            trainer.Model.MaxVoltage(spikes, 64, vmax);
        }

        TestData.AssertSteadyStateAllocatesNothing(() =>
        {
            trainer.Step(spikes, labels);
            trainer.Step(spikes.AsSpan(0, 300 * 7), labels.AsSpan(0, 7));
            trainer.Model.MaxVoltage(spikes, 64, vmax);
        });
    }

    [Test]
    public void TrainerStep_OnBadInput_ChangesNothing()
    {
        var (spikes, labels) = PatternTask(5, 8, 10, 2, 20);
        var model = new Tempotron(10, 2, 20, seed: 1);
        var twin = new Tempotron(10, 2, 20, seed: 1);
        var adam = new Adam(0.01f);
        var trainer = new TempotronTrainer(model, adam);
        var twinTrainer = new TempotronTrainer(twin, new Adam(0.01f));
        trainer.Step(spikes, labels);
        twinTrainer.Step(spikes, labels);

        var weights = Weights(model);
        var nan = (float[])spikes.Clone();
        nan[37] = float.NaN;
        var e1 = Assert.Throws<ArgumentException>(() => trainer.Step(nan, labels));
        Assert.That(e1!.Message, Does.Contain("(batch 3, input 7)"));
        Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Step(spikes, [0, 1, 0, 1, 2, 0, 0, 0]));
        Assert.Throws<ArgumentException>(() => trainer.Step(spikes.AsSpan(1), labels));
        Assert.Throws<ArgumentException>(() => trainer.Step(spikes, labels.AsSpan(1)));
        model.MaxDegreeOfParallelism = 2;
        Assert.Throws<ArgumentException>(() => trainer.Step(nan, labels));
        model.MaxDegreeOfParallelism = 1;
        Assert.That(Weights(model), Is.EqualTo(weights), "weights are bit-identical after failed steps");
        Assert.That(adam.StepCount, Is.EqualTo(1), "optimizer state untouched");

        // The next good step matches the twin's, so no hidden state moved either.
        trainer.Step(spikes, labels);
        twinTrainer.Step(spikes, labels);
        Assert.That(Weights(model), Is.EqualTo(Weights(twin)));
    }

    [Test]
    public void TrainerStep_OnNonFiniteLoss_ChangesNothing()
    {
        var w = new float[2 * 3];
        Array.Fill(w, 3e38f);
        var model = new Tempotron(3, 2, 20, w);
        var sgd = new Sgd(0.1f, momentum: 0.5f);
        var trainer = new TempotronTrainer(model, sgd);
        var ex = Assert.Throws<InvalidOperationException>(() => trainer.Step([0f, 1f, 2f], [1]));
        Assert.That(ex!.Message, Does.Contain("not finite"));
        Assert.That(Weights(model), Is.EqualTo(w));
    }

    [TestCase(1)]
    [TestCase(2)]
    public void TrainerStep_OnNonFiniteGradient_ChangesNothing(int degree)
    {
        // vMax is a finite float near 2.7e38, so the loss (in double) is finite, but dL/dvMax = 2 (vMax - 1)
        // overflows float: only the gradient check can catch it.
        var w = new float[2 * 3];
        Array.Fill(w, 9e37f);
        var model = new Tempotron(3, 2, 20, w) { MaxDegreeOfParallelism = degree };
        var sgd = new Sgd(0.1f, momentum: 0.5f);
        var trainer = new TempotronTrainer(model, sgd);
        var vMax = new float[2];
        model.MaxVoltage([0f, 1f, 2f], 1, vMax);
        Assert.That(float.IsFinite(vMax[0]) && vMax[0] > 2e38f, Is.True, "the case needs a finite vMax whose gradient overflows");

        var ex = Assert.Throws<InvalidOperationException>(() => trainer.Step([0f, 1f, 2f], [1]));

        Assert.That(ex!.Message, Does.Contain("weight gradient"));
        Assert.That(Weights(model), Is.EqualTo(w));
    }

    [Test]
    public void TrainingGradient_IsBoundedByPhase1sBound_FiniteForIntegerTimes([Values(1, 7, 40)] int inF, [Values(1, 3, 16, 17, 40)] int outF,
        [Values(1, 5, 30)] int t, [Values] bool fractional)
    {
        // Phase 1's bound (a sum over samples of each one's largest |gk|) must cover every element of the gradient that
        // phase 2 then sums, with weights large enough that the losses and gradients are far from 1.
        var rng = new Random((inF * 1000) + (outF * 10) + t);
        var batch = 1 + rng.Next(9);
        var w = TestData.Uniform(rng, outF * inF, -20f, 20f);
        var model = new Tempotron(inF, outF, t, w);
        var spikes = Enumerable.Range(0, batch * inF)
            .Select(_ => rng.Next(4) == 0 ? -1f : fractional ? (float)(rng.NextDouble() * (t + 1)) : rng.Next(t + 1))
            .ToArray();
        var labels = Enumerable.Range(0, batch).Select(_ => rng.Next(outF)).ToArray();
        foreach (var loss in new[] { TempotronLoss.MeanSquaredError, TempotronLoss.PaperCost })
        {
            var gradient = new float[model.Parameters.Length];
            var result = model.TrainingGradient(spikes, labels, loss, gradient);
            var max = gradient.Max(MathF.Abs);
            Assert.That(result.FirstNonFinite, Is.EqualTo(-1));
            Assert.That(result.MaxAbsGradient, Is.EqualTo(max), "phase 2's measured maximum");
            Assert.That(max, Is.LessThanOrEqualTo(result.GradientBound), $"{loss}: the bound holds");
            if (!fractional && outF <= 16)
            {
                Assert.That(double.IsFinite(result.GradientBound), Is.True, $"{loss}: integer times on one tile are bounded");
            }
        }
    }

    [Test]
    public void LossGradient_OfACorrectlyClassifiedBatch_IsZero()
    {
        // One input at t = 0 drives output 0 over the threshold and output 1 below it: label 0 is right on both
        // outputs, so the MSE gradient is exactly zero (and the whole sample skips phase 2).
        var model = new Tempotron(1, 2, 20, [2f, 0.5f]);
        var vMax = new float[2];
        model.MaxVoltage([0f], 1, vMax);
        Assert.That(vMax[0] >= 1f && vMax[1] < 1f, Is.True, "output 0 fires, output 1 stays silent");
        var dW = new float[2];
        Array.Fill(dW, float.NaN);

        var loss = model.LossGradient([0f, 0f], [0, 0], dW);

        Assert.That(loss, Is.Zero);
        Assert.That(dW, Is.All.EqualTo(0f));
        var wrong = new float[2];
        model.LossGradient([0f, 0f], [0, 1], wrong);
        Assert.That(wrong, Is.Not.All.EqualTo(0f), "one wrong sample gives a gradient");
    }

    [Test]
    public void Training_IsBitIdenticalUnderParallelism()
    {
        var (spikes, labels) = PatternTask(6, 48, 50, 4, 30);
        float[] Train(int degree)
        {
            var model = new Tempotron(50, 4, 30, seed: 9) { MaxDegreeOfParallelism = degree };
            var trainer = new TempotronTrainer(model, new Sgd(0.1f, momentum: 0.9f));
            for (var k = 0; k < 3; k++)
            {
                trainer.Step(spikes, labels);
            }

            return Weights(model);
        }

        Assert.That(Train(3), Is.EqualTo(Train(1)));
    }

    /// <summary>
    /// The network's end-to-end gradient is that of the straight-through network made literal,
    /// <c>s1(W1) = hard0 + sign0 (soft(W1) - soft0)</c>, which finite differences can check. Cases where that
    /// function is not differentiable are skipped: a hidden neuron reporting +0 (a perturbation would make it
    /// silent), a hidden spike exactly at an output's arg-max (the kink of the clamped kernel), or an output whose
    /// maximum is not unique (e.g. a flat run of zeros, where a moving input spike changes the arg-max).
    /// </summary>
    [Test]
    public void TwoLayers_EndToEndGradient_MatchesFiniteDifferencesOfTheStraightThroughNetwork()
    {
        const int inF = 6, hidden = 4, outF = 3, t = 30, batch = 2;
        var checkedCases = 0;
        for (var seed = 0; seed < 200 && checkedCases < 8; seed++)
        {
            var rng = new Random(900 + seed);
            var (l1, r1) = Layer(inF, hidden, t, rng, -0.5, 1.5);
            var (l2, r2) = Layer(hidden, outF, t, rng, -1.0, 2.0);
            var x = new float[batch * inF];
            for (var k = 0; k < x.Length; k++)
            {
                x[k] = rng.Next(4) == 0 ? -1f : rng.Next(12) + 0.05f + (0.9f * rng.NextSingle());
            }

            var up = Enumerable.Range(0, batch * outF).Select(_ => (rng.NextDouble() * 2) - 1).ToArray();
            var xd = Array.ConvertAll(x, v => (double)v);
            var v1 = r1.Voltage(xd, batch);
            var (max1, arg1) = r1.MaxVoltage(xd, batch);
            var sign0 = Array.ConvertAll(max1, m => m >= 1 ? 1.0 : -1.0);
            var hard0 = new double[batch * hidden];
            var soft0 = new double[batch * hidden];
            for (var k = 0; k < hard0.Length; k++)
            {
                hard0[k] = arg1[k] * sign0[k];
                soft0[k] = r1.SoftIndex(v1, k * t);
            }

            var (max2, arg2) = r2.MaxVoltage(hard0, batch);
            var v2 = r2.Voltage(hard0, batch);
            var differentiable = true;
            for (var k = 0; k < batch * outF; k++)
            {
                // The output's maximum must be unique (not, say, a flat run of zeros before any input spike).
                for (var tt = 0; tt < t; tt++)
                {
                    differentiable &= tt == arg2[k] || v2[(k * t) + tt] < max2[k] - 1e-3;
                }
            }

            for (var b = 0; b < batch; b++)
            {
                for (var h = 0; h < hidden; h++)
                {
                    var sh = hard0[(b * hidden) + h];
                    differentiable &= arg1[(b * hidden) + h] != 0;
                    for (var o = 0; o < outF; o++)
                    {
                        differentiable &= sh != arg2[(b * outF) + o];
                    }
                }
            }

            if (!differentiable)
            {
                continue;
            }

            // Fast: forward, then backward through both layers with the public API.
            var s1 = new float[batch * hidden];
            l1.SpikeTimes(x, batch, s1);
            Assert.That(s1, Is.EqualTo(Array.ConvertAll(hard0, v => (float)v)), "float and double forward agree on the spike times");
            var dW2 = new float[l2.WeightCount];
            var dS1 = new float[s1.Length];
            l2.MaxVoltageBackward(s1, batch, Array.ConvertAll(up, u => (float)u), dW2, dS1);
            var dW1 = new float[l1.WeightCount];
            l1.SpikeTimesBackward(x, batch, dS1, dW1, []);

            double Objective()
            {
                var v = r1.Voltage(xd, batch);
                var s = new double[hard0.Length];
                for (var k = 0; k < s.Length; k++)
                {
                    s[k] = hard0[k] + (sign0[k] * (r1.SoftIndex(v, k * t) - soft0[k]));
                }

                return r2.MaxVoltageObjective(s, batch, up);
            }

            var fd = new double[r1.W.Length];
            for (var k = 0; k < fd.Length; k++)
            {
                fd[k] = TempotronReference.Central(r1.W, k, 1e-6, Objective);
            }

            var scale = fd.Max(Math.Abs);
            for (var k = 0; k < fd.Length; k++)
            {
                Assert.That(dW1[k], Is.EqualTo(fd[k]).Within((5e-3 * Math.Abs(fd[k])) + (2e-3 * scale) + 1e-6), $"seed {seed}: dW1[{k}]");
            }

            checkedCases++;
        }

        Assert.That(checkedCases, Is.EqualTo(8), "enough differentiable cases were found");
    }

    [Test]
    public void TwoLayers_LearnASpikePatternTask()
    {
        const int inF = 30, hidden = 12, classes = 2, t = 30, batch = 10;
        var (x, labels) = PatternTask(7, 200, inF, classes, t);
        // Hidden neurons must fire for their spike times to carry information: with nn.Linear's small default
        // weights they stay silent and every sample reports the same -t*. Start them excitatory-leaning.
        var init = new Random(1);
        var w1 = new float[hidden * inF];
        for (var k = 0; k < w1.Length; k++)
        {
            w1[k] = -0.2f + (0.8f * init.NextSingle());
        }

        var l1 = new Tempotron(inF, hidden, t, w1);
        var l2 = new Tempotron(hidden, classes, t, seed: 2);
        var o1 = new Adam(0.01f);
        var o2 = new Adam(0.01f);
        var s1 = new float[batch * hidden];
        var vmax = new float[batch * classes];
        var dV = new float[batch * classes];
        var dW2 = new float[l2.WeightCount];
        var dS1 = new float[s1.Length];
        var dW1 = new float[l1.WeightCount];

        (float Loss, int Correct) Evaluate()
        {
            var s = new float[labels.Length * hidden];
            var v = new float[labels.Length * classes];
            l1.SpikeTimes(x, labels.Length, s);
            l2.MaxVoltage(s, labels.Length, v);
            var correct = 0;
            for (var n = 0; n < labels.Length; n++)
            {
                correct += (v[(n * 2) + 1] > v[n * 2] ? 1 : 0) == labels[n] ? 1 : 0;
            }

            return (l2.MseLoss(v, labels), correct);
        }

        var before = Evaluate();
        for (var epoch = 0; epoch < 30; epoch++)
        {
            for (var k = 0; k + batch <= labels.Length; k += batch)
            {
                var xb = x.AsSpan(k * inF, batch * inF);
                var yb = labels.AsSpan(k, batch);
                l1.SpikeTimes(xb, batch, s1);
                l2.MaxVoltage(s1, batch, vmax);
                l2.LossBackward(vmax, yb, dV);
                l2.MaxVoltageBackward(s1, batch, dV, dW2, dS1);
                l1.SpikeTimesBackward(xb, batch, dS1, dW1, []);
                l2.ApplyGradient(o2, dW2);
                l1.ApplyGradient(o1, dW1);
            }
        }

        var after = Evaluate();
        Assert.That(after.Loss, Is.LessThan(before.Loss), $"loss {before.Loss} -> {after.Loss}");
        Assert.That(after.Correct, Is.GreaterThan(labels.Length * 3 / 4), $"accuracy {after.Correct}/{labels.Length}, chance 1/2");
    }

    /// <summary>A layer with weights uniform in [lo, hi) (excitatory-leaning, so that its neurons fire), and its reference.</summary>
    private static (Tempotron Fast, TempotronReference Reference) Layer(int inF, int outF, int t, Random rng, double lo, double hi)
    {
        var w = new float[outF * inF];
        for (var k = 0; k < w.Length; k++)
        {
            w[k] = (float)(lo + ((hi - lo) * rng.NextDouble()));
        }

        return (new Tempotron(inF, outF, t, w), new TempotronReference(inF, outF, t, Array.ConvertAll(w, x => (double)x)));
    }

    private static float[] Weights(Tempotron model)
    {
        var w = new float[model.WeightCount];
        model.CopyWeightsTo(w);
        return w;
    }
}
