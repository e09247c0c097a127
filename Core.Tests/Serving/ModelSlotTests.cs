using TimingBased.Neurons;
using TimingBased.Serving;

namespace TimingBased.Tests.Serving;

public class ModelSlotTests
{
    private const int In = 97;
    private const int Out = 10;
    private const int T = 40;

    /// <summary>Three weight sets that give different peaks on every input below.</summary>
    private static float[][] WeightSets() =>
    [
        .. Enumerable.Range(0, 3).Select(seed =>
        {
            var w = new float[In * Out];
            new Tempotron(In, Out, T, seed: 100 + seed).CopyWeightsTo(w);
            return w;
        }),
    ];

    private static float[] Input(int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, In).Select(_ => rng.NextDouble() < 0.3 ? -1f : (float)rng.Next(T))];
    }

    /// <summary>
    /// Eight readers and one writer publishing 1,000 new models (built from one of three weight sets, in turn): every
    /// reader's result equals, bit for bit, the result of the model its snapshot names, computed before the run by a
    /// model that was never shared.
    /// </summary>
    [Test]
    public void EightReaders_OneWriter_ThousandSwaps_EveryResultIsOneWholeModels()
    {
        var sets = WeightSets();
        var inputs = Enumerable.Range(0, 4).Select(Input).ToArray();
        var expected = new float[sets.Length][][];
        for (var s = 0; s < sets.Length; s++)
        {
            var model = new Tempotron(In, Out, T, sets[s]);
            expected[s] = [.. inputs.Select(x => { var peaks = new float[Out]; model.MaxVoltage(x, 1, peaks); return peaks; })];
        }

        Assert.That(expected[0][0], Is.Not.EqualTo(expected[1][0]), "the weight sets must be told apart");
        var slot = new ModelSlot<Tempotron>(new Tempotron(In, Out, T, sets[0]));
        var setOf = new System.Collections.Concurrent.ConcurrentDictionary<long, int>();
        setOf[1] = 0;
        var done = 0;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var readCounts = new long[8];
        var readers = Enumerable.Range(0, 8).Select(r => Task.Factory.StartNew(() =>
        {
            var peaks = new float[Out];
            var k = r;
            while (Volatile.Read(ref done) == 0 || k < r + 100)
            {
                var snapshot = slot.Current;
                var x = k++ % inputs.Length;
                snapshot.Model.MaxVoltage(inputs[x], 1, peaks);
                if (!setOf.TryGetValue(snapshot.Version, out var set))
                {
                    failures.Enqueue($"version {snapshot.Version} was read before the writer recorded it");
                    return;
                }

                if (!peaks.AsSpan().SequenceEqual(expected[set][x]))
                {
                    failures.Enqueue($"reader {r}, version {snapshot.Version}: [{string.Join(", ", peaks)}] is not model {set}'s result");
                    return;
                }

                readCounts[r]++;
            }
        }, TaskCreationOptions.LongRunning)).ToArray();

        for (var swap = 1; swap <= 1000; swap++)
        {
            var set = swap % sets.Length;
            setOf[swap + 1] = set; // recorded before publication, so a reader always finds it
            var published = slot.Publish(new Tempotron(In, Out, T, sets[set]));
            Assert.That(published.Version, Is.EqualTo(swap + 1));
            Thread.Yield();
        }

        Volatile.Write(ref done, 1);
        Task.WaitAll(readers);
        Assert.That(failures, Is.Empty);
        Assert.That(readCounts, Has.All.GreaterThanOrEqualTo(100));
        Assert.That(slot.Current.Version, Is.EqualTo(1001));
    }

    /// <summary>A stream opened on a snapshot keeps that model after a swap; a stream opened after it gets the new one.</summary>
    [Test]
    public void AStream_KeepsTheSnapshotItWasOpenedOn()
    {
        var sets = WeightSets();
        var slot = new ModelSlot<Tempotron>(new Tempotron(In, Out, T, sets[0]));
        var before = new TimingBased.Streaming.StreamingTempotron(slot.Current.Model);
        before.Push(3, 1.0);
        slot.Publish(new Tempotron(In, Out, T, sets[1]));
        var after = new TimingBased.Streaming.StreamingTempotron(slot.Current.Model);
        foreach (var stream in new[] { before, after })
        {
            if (stream == after)
            {
                stream.Push(3, 1.0);
            }

            stream.Push(50, 4.0);
            stream.AdvanceTo(T);
        }

        var x = new float[In];
        Array.Fill(x, -1f);
        x[3] = 1f;
        x[50] = 4f;
        var old = new float[Out];
        var @new = new float[Out];
        new Tempotron(In, Out, T, sets[0]).MaxVoltage(x, 1, old);
        new Tempotron(In, Out, T, sets[1]).MaxVoltage(x, 1, @new);
        Assert.That(before.Model, Is.Not.SameAs(slot.Current.Model));
        Assert.That(before.MaxVoltages.ToArray(), Is.EqualTo(old).Within(1e-5f));
        Assert.That(after.MaxVoltages.ToArray(), Is.EqualTo(@new).Within(1e-5f));
        Assert.That(old, Is.Not.EqualTo(@new).Within(1e-3f));
    }

    [Test]
    public void Publish_FreezesTheModel_AndNumbersVersionsInOrder()
    {
        var first = new Tempotron(3, 2, 5, seed: 1);
        var slot = new ModelSlot<Tempotron>(first);
        Assert.That(first.IsFrozen, Is.True);
        Assert.That(slot.Current.Model, Is.SameAs(first));
        Assert.That(slot.Current.Version, Is.EqualTo(1));

        var second = new Tempotron(3, 2, 5, seed: 2);
        var snapshot = slot.Publish(second);
        Assert.That((second.IsFrozen, snapshot.Version, slot.Current.Model), Is.EqualTo((true, 2L, second)));
        Assert.That(snapshot.PublishedAt, Is.GreaterThanOrEqualTo(slot.Current.PublishedAt.AddSeconds(-1)));
    }

    [Test]
    public void Publish_RefusesNullAndTheServedModel()
    {
        var model = new ExactTempotron(3, 2);
        var slot = new ModelSlot<ExactTempotron>(model);
        Assert.That(() => slot.Publish(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("model"));
        Assert.That(() => slot.Publish(model), Throws.ArgumentException.With.Property("ParamName").EqualTo("model")
            .And.Message.Contains("already"));
        Assert.That(slot.Current.Version, Is.EqualTo(1));
        Assert.That(() => new ModelSlot<MultiSpikeTempotron>(null!), Throws.ArgumentNullException);
    }

    [Test]
    public void Current_AllocatesNothing()
    {
        var slot = new ModelSlot<Tempotron>(new Tempotron(3, 2, 5, seed: 1));
        var x = new float[] { 0, 1, -1 };
        var peaks = new float[2];
        slot.Current.Model.MaxVoltage(x, 1, peaks);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var k = 0; k < 100; k++)
        {
            slot.Current.Model.MaxVoltage(x, 1, peaks);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }
}
