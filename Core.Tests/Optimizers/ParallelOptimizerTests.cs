using TimingBased.Internal;
using TimingBased.Neurons;
using TimingBased.Optimizers;

namespace TimingBased.Tests.Optimizers;

/// <summary>
/// The optimizers' threaded path (a model with <c>MaxDegreeOfParallelism</c> above 1 and at least 65,536 parameters):
/// the same bits as one thread, and still all or nothing.
/// </summary>
public class ParallelOptimizerTests
{
    // 4101 inputs x 16 outputs: 65,616 parameters, just above the threaded path's minimum, not a multiple of its chunks.
    private const int In = 4101;
    private const int Out = 16;

    private static IOptimizer Make(string kind) => kind switch
    {
        "sgd" => new Sgd(0.05f),
        "momentum" => new Sgd(0.05f, momentum: 0.9f, weightDecay: 1e-3f),
        "nesterov" => new Sgd(0.05f, momentum: 0.5f, nesterov: true),
        _ => new Adam(1e-2f, weightDecay: 1e-3f),
    };

    private static float[] Weights(Tempotron model)
    {
        var w = new float[model.WeightCount];
        model.CopyWeightsTo(w);
        return w;
    }

    [Test]
    public void ApplyGradient_WithThreads_GivesTheSameBits([Values("sgd", "momentum", "nesterov", "adam")] string kind, [Values(2, 3)] int degree)
    {
        var one = new Tempotron(In, Out, 20, seed: 4);
        var many = new Tempotron(In, Out, 20, seed: 4) { MaxDegreeOfParallelism = degree };
        Assert.That(one.WeightCount, Is.GreaterThanOrEqualTo(ParallelChunks.MinimumLength));
        var (a, b) = (Make(kind), Make(kind));
        var rng = new Random(7);
        for (var step = 0; step < 4; step++)
        {
            var g = TestData.Uniform(rng, one.WeightCount, -1f, 1f);
            one.ApplyGradient(a, g);
            many.ApplyGradient(b, g);
            Assert.That(Weights(many), Is.EqualTo(Weights(one)), $"step {step}");
        }
    }

    [Test]
    public void TrainerStep_WithThreads_GivesTheSameBits([Values("momentum", "adam")] string kind)
    {
        var rng = new Random(3);
        var spikes = Enumerable.Range(0, 8 * In).Select(_ => rng.Next(4) == 0 ? rng.Next(20) : -1f).ToArray();
        var labels = Enumerable.Range(0, 8).Select(_ => rng.Next(Out)).ToArray();
        var one = new TempotronTrainer(new Tempotron(In, Out, 20, seed: 4), Make(kind));
        var many = new TempotronTrainer(new Tempotron(In, Out, 20, seed: 4) { MaxDegreeOfParallelism = 2 }, Make(kind));
        for (var step = 0; step < 3; step++)
        {
            Assert.That(many.Step(spikes, labels), Is.EqualTo(one.Step(spikes, labels)));
            Assert.That(Weights(many.Model), Is.EqualTo(Weights(one.Model)), $"step {step}");
        }
    }

    [Test]
    public void ApplyGradient_WithThreads_WhoseUpdateOverflowsInTheLastChunk_ChangesNothing([Values("momentum", "adam")] string kind)
    {
        var model = new Tempotron(In, Out, 20, seed: 4) { MaxDegreeOfParallelism = 2 };
        var twin = new Tempotron(In, Out, 20, seed: 4);
        var (optimizer, twinOptimizer) = (Make(kind), Make(kind));
        var rng = new Random(9);
        var first = TestData.Uniform(rng, model.WeightCount, -1f, 1f);
        model.ApplyGradient(optimizer, first); // the optimizer state exists
        twin.ApplyGradient(twinOptimizer, first);

        // The last weight (in the second chunk) near float.MaxValue, so that SGD's step overflows there; for Adam,
        // a gradient whose square overflows the second moment.
        var weights = Weights(model);
        weights[^1] = kind == "adam" ? weights[^1] : float.MaxValue * 0.99f;
        model.SetWeights(weights);
        twin.SetWeights(weights);
        var before = Weights(model);
        var bad = TestData.Uniform(rng, model.WeightCount, -1f, 1f);
        bad[^1] = kind == "adam" ? 1e30f : -3e38f;
        Assert.Throws<InvalidOperationException>(() => model.ApplyGradient(optimizer, bad));
        Assert.That(Weights(model), Is.EqualTo(before), "weights");

        // The state is untouched too: the next good step equals the twin's, which never saw the bad one.
        var good = TestData.Uniform(rng, model.WeightCount, -1f, 1f);
        model.ApplyGradient(optimizer, good);
        twin.ApplyGradient(twinOptimizer, good);
        Assert.That(Weights(model), Is.EqualTo(Weights(twin)), "state");
    }
}
