using System.Reflection;
using TimingBased.Neurons;

namespace TimingBased.Tests.Neurons;

/// <summary>
/// The threaded batch runner hands its workers the caller's pinned spans: the results must not depend on where the
/// garbage collector moves unpinned memory meanwhile, and every span it carries must be one it pins.
/// </summary>
public class ParallelBatchTests
{
    [Test]
    public void BatchSpans_HasTheMembersParallelBatchPins()
    {
        // ParallelBatch.Run pins each member of BatchSpans by name; this count changes only together with that list.
        var spans = typeof(BatchSpans).GetProperties(BindingFlags.Public | BindingFlags.Instance);
        Assert.That(spans, Has.Length.EqualTo(19), "a BatchSpans member was added or removed: pin it in ParallelBatch.Run, then update this count");
    }

    [Test]
    public void TwoThreads_UnderCompactingCollections_GiveTheOneThreadBits()
    {
        const int inFeatures = 301, outFeatures = 21, t = 60, batch = 33;
        var rng = new Random(5);
        var spikes = new float[batch * inFeatures];
        for (var k = 0; k < spikes.Length; k++)
        {
            spikes[k] = rng.Next(5) == 0 ? -1f : rng.Next(t + 2) + (rng.Next(3) == 0 ? 0.5f : 0f);
        }

        var upstream = new float[batch * outFeatures];
        for (var k = 0; k < upstream.Length; k++)
        {
            upstream[k] = (float)(rng.NextDouble() - 0.5);
        }

        var model = new Tempotron(inFeatures, outFeatures, t, seed: 3);
        var expectedW = new float[model.WeightCount];
        var expectedIn = new float[spikes.Length];
        model.MaxVoltageBackward(spikes, batch, upstream, expectedW, expectedIn);

        model.MaxDegreeOfParallelism = 2;
        using var stop = new CancellationTokenSource();
        var collector = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect(0, GCCollectionMode.Forced, blocking: true, compacting: true);
                Thread.Sleep(1);
            }
        });
        try
        {
            for (var round = 0; round < 30; round++)
            {
                // Fresh, unpinned arrays each round, so that a collection may move them while the workers run.
                var input = Fresh(spikes);
                var up = Fresh(upstream);
                var w = Fresh(new float[model.WeightCount]);
                var dIn = Fresh(new float[spikes.Length]);
                model.MaxVoltageBackward(input, batch, up, w, dIn);
                Assert.That(Bits(w), Is.EqualTo(Bits(expectedW)), $"weight gradient, round {round}");
                Assert.That(Bits(dIn), Is.EqualTo(Bits(expectedIn)), $"input gradient, round {round}");
            }
        }
        finally
        {
            stop.Cancel();
            collector.Wait();
        }
    }

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];

    /// <summary>A copy of <paramref name="values"/> between two pieces of garbage, so that a compacting collection moves it.</summary>
    private static float[] Fresh(float[] values)
    {
        GC.KeepAlive(new byte[40_000]);
        var copy = (float[])values.Clone();
        GC.KeepAlive(new byte[40_000]);
        return copy;
    }
}
