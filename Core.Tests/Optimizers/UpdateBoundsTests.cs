using System.Runtime.InteropServices;
using TimingBased.Neurons;
using TimingBased.Optimizers;

namespace TimingBased.Tests.Optimizers;

/// <summary>
/// The optimizers' bounded step (<see cref="IChunkedOptimizer.StepBounded"/>): where bounds on the weights and the
/// gradient prove the update finite it skips the checking pass. It must give the checked step's bits, throw exactly
/// when the checked step throws (changing nothing), and return a bound that holds.
/// </summary>
public class UpdateBoundsTests
{
    private static readonly string[] _kinds = ["sgd", "decay", "momentum", "nesterov", "adam", "adam-decay"];

    private static IOptimizer Make(string kind, float lr) => kind switch
    {
        "sgd" => new Sgd(lr),
        "decay" => new Sgd(lr, weightDecay: 0.5f),
        "momentum" => new Sgd(lr, momentum: 0.9f),
        "nesterov" => new Sgd(lr, momentum: 0.5f, weightDecay: 1e-3f, nesterov: true),
        "adam" => new Adam(lr),
        _ => new Adam(lr, beta1: 0.5f, beta2: 0.9f, eps: 1e-3f, weightDecay: 0.25f),
    };

    private static long CheckingPasses(IOptimizer optimizer) => optimizer switch
    {
        Sgd s => s.CheckingPasses,
        Adam a => a.CheckingPasses,
        _ => throw new ArgumentException("not a library optimizer", nameof(optimizer)),
    };

    private static int[] Bits(float[] values) => MemoryMarshal.Cast<float, int>(values).ToArray();

    private static double MaxAbs(ReadOnlySpan<float> values)
    {
        var max = 0.0;
        foreach (var v in values)
        {
            max = Math.Max(max, Math.Abs(v));
        }

        return max;
    }

    /// <summary>Magnitudes from tiny to near <see cref="float.MaxValue"/>, signs mixed, the largest at a random position.</summary>
    private static float[] Values(Random rng, int n, int exponent)
    {
        var values = new float[n];
        for (var k = 0; k < n; k++)
        {
            values[k] = (float)((rng.Next(2) == 0 ? -1 : 1) * rng.NextDouble() * Math.Pow(2, exponent));
        }

        values[rng.Next(n)] = (float)((rng.Next(2) == 0 ? -1 : 1) * Math.Pow(2, exponent) * 0.999);
        return values;
    }

    [Test]
    public void StepBounded_GivesTheCheckedStepsBits_ThrowsWhenItThrows_AndItsBoundHolds([ValueSource(nameof(_kinds))] string kind)
    {
        // A seed fixed per kind: string.GetHashCode is randomised per process, which made the cases (and whether they
        // reach the coverage counts below) change from run to run.
        var rng = new Random(kind.Aggregate(17, (h, c) => (h * 31) + c) & 0xffff);
        float[] rates = [0f, 1e-3f, 0.5f, 1f, 3f, 1e20f, 1e30f];
        int[] lengths = [1, 7, 8, 67, 200];
        var (proven, checkedSteps, thrown) = (0L, 0L, 0);
        for (var trial = 0; trial < 500; trial++)
        {
            var n = lengths[rng.Next(lengths.Length)];
            var lr = rates[rng.Next(rates.Length)];
            var (reference, bounded) = (Make(kind, lr), Make(kind, lr));
            var parameterExponent = rng.Next(-10, 128);
            var p = Values(rng, n, parameterExponent);
            var q = (float[])p.Clone();
            double bound = MaxAbs(p);
            for (var step = 0; step < 4; step++)
            {
                // Gradients up to the weights' scale or far beyond, so that some updates overflow.
                var g = Values(rng, n, Math.Min(127, parameterExponent + rng.Next(-20, 130)));
                var before = CheckingPasses(bounded);
                var referenceThrew = false;
                try
                {
                    reference.Step(p, g);
                }
                catch (InvalidOperationException)
                {
                    referenceThrew = true;
                }

                if (referenceThrew)
                {
                    var unchanged = Bits(q);
                    Assert.Throws<InvalidOperationException>(() => bound = ((IChunkedOptimizer)bounded).StepBounded(q, g, 1, bound, MaxAbs(g)),
                        $"trial {trial} step {step}: the checked step threw");
                    Assert.That(Bits(q), Is.EqualTo(unchanged), $"trial {trial} step {step}: a refused step changed the weights");
                    thrown++;
                    break;
                }

                bound = ((IChunkedOptimizer)bounded).StepBounded(q, g, 1, bound, MaxAbs(g));
                Assert.That(Bits(q), Is.EqualTo(Bits(p)), $"trial {trial} step {step}: the same bits as the checked step");
                Assert.That(MaxAbs(q), Is.LessThanOrEqualTo(bound), $"trial {trial} step {step}: the returned bound holds");
                if (CheckingPasses(bounded) == before)
                {
                    proven++;
                }
                else
                {
                    checkedSteps++;
                }
            }
        }

        // Both kinds of step were exercised, and refused updates too.
        Assert.That(proven, Is.GreaterThan(100), "steps proven finite");
        Assert.That(checkedSteps, Is.GreaterThan(5), "steps that needed the checking pass");
        Assert.That(thrown, Is.GreaterThan(5), "steps refused");
    }

    [Test]
    public void TrainerSteps_SkipTheCheckingPass_AfterTheFirst_WithTheSameBitsAsCheckedSteps([Values("sgd", "momentum", "nesterov", "adam")] string kind,
        [Values(1, 2)] int degree)
    {
        // 4101 inputs x 16 outputs: above the threaded optimizer's minimum, so degree 2 runs it in chunks.
        const int In = 4101, Out = 16, T = 20;
        var rng = new Random(11);
        var spikes = Enumerable.Range(0, 8 * In).Select(_ => rng.Next(4) == 0 ? rng.Next(T) : -1f).ToArray();
        var labels = Enumerable.Range(0, 8).Select(_ => rng.Next(Out)).ToArray();
        var optimizer = Make(kind, 0.05f);
        var trainer = new TempotronTrainer(new Tempotron(In, Out, T, seed: 4) { MaxDegreeOfParallelism = degree }, optimizer);
        var twin = new Tempotron(In, Out, T, seed: 4);
        var twinOptimizer = Make(kind, 0.05f);
        var gradient = new float[twin.WeightCount];
        for (var step = 0; step < 5; step++)
        {
            trainer.Step(spikes, labels);
            twin.LossGradient(spikes, labels, gradient);
            twin.ApplyGradient(twinOptimizer, gradient);
            Assert.That(Bits(Weights(trainer.Model)), Is.EqualTo(Bits(Weights(twin))), $"step {step}");
        }

        Assert.That(CheckingPasses(optimizer), Is.EqualTo(1), "only the first step, which knew no bound on the weights, checked");
        Assert.That(trainer.StepsUpdatedInPhase2, Is.EqualTo(4), "the later steps wrote their update block by block in phase 2");
        Assert.That(CheckingPasses(twinOptimizer), Is.EqualTo(5), "ApplyGradient knows no bound: it always checks");

        // Weights set from outside: the trainer's bound is stale, so the next step checks again.
        trainer.Model.SetWeights(Weights(twin));
        trainer.Step(spikes, labels);
        Assert.That(CheckingPasses(optimizer), Is.EqualTo(2));
    }

    [Test]
    public void TrainerSteps_WhetherOrNotPhase2WritesTheUpdate_GiveTheCheckedStepsBits(
        [Values("37x3", "300x40", "50x5 fractional", "20x17 threshold")] string shape, [Values("momentum", "adam")] string kind, [Values(1, 2)] int degree)
    {
        // 300 x 40: rows of three 16-float tiles; fractional times: phase 1 cannot bound the gradient (the combination
        // of two planes), so every step takes the optimizer's own pass; the paper cost on 17 outputs: two tiles, of
        // which a batch may leave one without gradient.
        var (inF, outF, t) = shape switch
        {
            "37x3" => (37, 3, 10),
            "300x40" => (300, 40, 25),
            "50x5 fractional" => (50, 5, 12),
            _ => (20, 17, 15),
        };
        var loss = shape.EndsWith("threshold", StringComparison.Ordinal) ? TempotronLoss.PaperCost : TempotronLoss.MeanSquaredError;
        var rng = new Random(inF * outF);
        var spikes = Enumerable.Range(0, 9 * inF)
            .Select(_ => rng.Next(3) == 0 ? -1f : shape.Contains("fractional", StringComparison.Ordinal) ? (float)(rng.NextDouble() * t) : rng.Next(t + 2))
            .ToArray();
        var labels = Enumerable.Range(0, 9).Select(_ => rng.Next(outF)).ToArray();
        var optimizer = Make(kind, 0.05f);
        var trainer = new TempotronTrainer(new Tempotron(inF, outF, t, seed: 6) { MaxDegreeOfParallelism = degree }, optimizer, loss);
        var twin = new Tempotron(inF, outF, t, seed: 6);
        var twinOptimizer = Make(kind, 0.05f);
        var gradient = new float[twin.WeightCount];
        for (var step = 0; step < 4; step++)
        {
            var result = trainer.Step(spikes, labels);
            Assert.That(result.Loss, Is.EqualTo(twin.LossGradient(spikes, labels, loss, gradient)), $"step {step}");
            twin.ApplyGradient(twinOptimizer, gradient);
            Assert.That(Bits(Weights(trainer.Model)), Is.EqualTo(Bits(Weights(twin))), $"step {step}");
        }

        if (shape.Contains("fractional", StringComparison.Ordinal))
        {
            Assert.That(trainer.StepsUpdatedInPhase2, Is.Zero);
            Assert.That(CheckingPasses(optimizer), Is.EqualTo(1), "later steps still proven from the gradient's measured maximum");
        }
        else if (shape == "37x3")
        {
            Assert.That(trainer.StepsUpdatedInPhase2, Is.EqualTo(3));
        }
    }

    [Test]
    public void TrainerStep_AfterTheOptimizerStateGrewElsewhere_StillRefusesAnOverflowingUpdate()
    {
        // A trainer step records a bound on the weights; then the same SGD steps another vector of the same length
        // with a huge gradient, so its momentum buffer is near float.MaxValue while the model's weights (and so the
        // trainer's bound on them) are unchanged. The next trainer step's update, p - 2 (0.99 buf + g), overflows:
        // the optimizer's own bound on its buffer must come from that step, or the bounded step would write -inf.
        var (spikes, labels) = Neurons.TempotronTrainingTests.PatternTask(5, 8, 10, 2, 20);
        var model = new Tempotron(10, 2, 20, seed: 1);
        var sgd = new Sgd(2f, momentum: 0.99f);
        var trainer = new TempotronTrainer(model, sgd);
        trainer.Step(spikes, labels);
        var elsewhere = new float[model.Parameters.Length];
        var huge = new float[elsewhere.Length];
        Array.Fill(huge, float.MaxValue * 0.9f);
        sgd.LearningRate = 0f; // that step moves nothing, but fills the buffer
        sgd.Step(elsewhere, huge);
        sgd.LearningRate = 2f;

        var weights = Weights(model);
        var ex = Assert.Throws<InvalidOperationException>(() => trainer.Step(spikes, labels));
        Assert.That(ex!.Message, Does.Contain("SGD update"));
        Assert.That(Bits(Weights(model)), Is.EqualTo(Bits(weights)), "nothing changed");
    }

    [Test]
    public void TrainerStep_AfterTheLearningRateGrew_RefusesAnOverflowingUpdate([Values("sgd", "adam")] string kind)
    {
        // Weights of 50 make vMax large and the MSE gradient far above 1, so SGD at float.MaxValue overflows; Adam's
        // bias-corrected step size itself overflows.
        var (spikes, labels) = Neurons.TempotronTrainingTests.PatternTask(6, 8, 10, 2, 20);
        var w = new float[2 * 10];
        Array.Fill(w, 50f);
        var model = new Tempotron(10, 2, 20, w);
        var optimizer = Make(kind, 0.01f);
        var trainer = new TempotronTrainer(model, optimizer);
        trainer.Step(spikes, labels);
        trainer.Step(spikes, labels);
        Assert.That(CheckingPasses(optimizer), Is.EqualTo(1), "the second step was proven finite");

        // Any non-zero gradient element now moves its weight by more than float.MaxValue.
        var weights = Weights(model);
        if (optimizer is Sgd sgd)
        {
            sgd.LearningRate = float.MaxValue;
        }
        else
        {
            ((Adam)optimizer).LearningRate = float.MaxValue;
        }

        Assert.Throws<InvalidOperationException>(() => trainer.Step(spikes, labels));
        Assert.That(Bits(Weights(model)), Is.EqualTo(Bits(weights)), "nothing changed");
    }

    private static float[] Weights(Tempotron model)
    {
        var w = new float[model.WeightCount];
        model.CopyWeightsTo(w);
        return w;
    }
}
