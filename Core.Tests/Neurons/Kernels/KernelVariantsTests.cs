using TimingBased.Neurons;
using TimingBased.Neurons.Kernels;
using TimingBased.Optimizers;

namespace TimingBased.Tests.Neurons.Kernels;

/// <summary>
/// Each kernel variant against its simpler sibling (<see cref="KernelVariants"/> switched off): the forward outputs, a
/// tape's backward, the backward from scratch (some outputs with no upstream gradient), the input gradient and a training
/// step with plain SGD (its masked commit) must be the same bits. The layers are one tile, two tiles with a partial one and seven tiles wide; the batch is odd
/// (a group's last sample has no partner), and one batch has fractional times.
/// </summary>
public class KernelVariantsTests
{
    public static IEnumerable<string> Switches =>
        [nameof(KernelVariants.PackedLists), nameof(KernelVariants.Tiles), nameof(KernelVariants.Pairs), nameof(KernelVariants.Adds512),
            nameof(KernelVariants.MaskedCommit), nameof(KernelVariants.Collect128), nameof(KernelVariants.LiveOutputs)];

    [TearDown]
    public void RestoreSwitches() => KernelVariants.Reset();

    [Test]
    public void SwitchedOff_GivesTheSameBits([ValueSource(nameof(Switches))] string variant, [Values(10, 20, 100)] int outs, [Values] bool integerOnly)
    {
        // Collect128 has work only below 256-bit vectors: that path, where this CPU has it.
        var path = variant == nameof(KernelVariants.Collect128) && KernelPaths.IsSupported(KernelPath.Vector128) ? KernelPath.Vector128 : KernelPaths.Best;
        var on = Run(path);
        Set(variant, false);
        var off = Run(path);
        KernelVariants.Reset();

        for (var k = 0; k < on.Length; k++)
        {
            Assert.That(Bits(off[k]), Is.EqualTo(Bits(on[k])), $"result {k}");
        }

        float[][] Run(KernelPath kernelPath)
        {
            var rng = new Random(outs + (integerOnly ? 1 : 0));
            const int inputs = 203, t = 23, batch = 7;
            var spikes = TempotronForwardTests.RandomSpikes(rng, batch * inputs, t, integerOnly);
            var labels = Enumerable.Range(0, batch).Select(_ => rng.Next(outs)).ToArray();
            var weights = TestData.Uniform(rng, outs * inputs, -0.3f, 0.5f);
            var upstream = TestData.Uniform(rng, batch * outs, -1f, 1f);
            for (var k = 0; k < upstream.Length; k++)
            {
                upstream[k] = k % outs % 3 == 1 ? 0f : upstream[k]; // every third output dead in every sample (LiveOutputs)
            }
            var model = new Tempotron(inputs, outs, t, weights) { Path = kernelPath };

            var times = new float[batch * outs];
            var tape = new TempotronTape();
            model.SpikeTimes(tape, spikes, batch, times);
            var dWTape = new float[outs * inputs];
            var dInTape = new float[batch * inputs];
            model.SpikeTimesBackward(tape, upstream, dWTape, dInTape);
            var vMax = new float[batch * outs];
            model.MaxVoltage(spikes, batch, vMax);
            var dW = new float[outs * inputs];
            model.MaxVoltageBackward(spikes, batch, upstream, dW, []);
            var sgd = new Sgd(0.1f) { Path = kernelPath };
            var trainer = new TempotronTrainer(model, sgd);
            var step = trainer.Step(spikes, labels);
            var second = trainer.Step(spikes, labels);
            var after = new float[outs * inputs];
            model.CopyWeightsTo(after);
            return [times, dWTape, dInTape, vMax, dW, [step.Loss, second.Loss, second.Correct], after];
        }
    }

    [Test]
    public void Reset_TurnsEverySwitchOn()
    {
        foreach (var variant in Switches)
        {
            Set(variant, false);
        }

        KernelVariants.Reset();

        Assert.That(Switches.Select(Get), Is.All.True);
    }

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];

    private static void Set(string variant, bool on) =>
        typeof(KernelVariants).GetProperty(variant)!.SetValue(null, on);

    private static bool Get(string variant) => (bool)typeof(KernelVariants).GetProperty(variant)!.GetValue(null)!;
}
