using TimingBased.Internal;

namespace TimingBased.Tests.Internal;

/// <summary>The per-thread scratch's zeroed pool: zero whenever taken, whether or not its last user gave it back.</summary>
public class ScratchTests
{
    [Test]
    public void ZeroedFloats_AreZeroWhenTaken_EvenIfTheLastUserDidNotReturnThem()
    {
        var pool = new Scratch.ZeroedFloats();
        var first = pool.Take(100);
        Assert.That(first.ToArray(), Is.All.Zero);
        first.Fill(7f); // a user that fails half-way: never returned, left dirty
        var second = pool.Take(50);
        Assert.That(second.ToArray(), Is.All.Zero, "cleared because it was not returned");

        pool.Return(); // returned zero, as users must
        var grown = pool.Take(1000);
        Assert.That(grown.ToArray(), Is.All.Zero);
        grown[999] = 1f;
        var again = pool.Take(1000);
        Assert.That(again.ToArray(), Is.All.Zero, "a taker that takes again without returning gets it cleared");
        pool.Return();
        Assert.That(pool.Take(10).ToArray(), Is.All.Zero);
    }

    [Test]
    public void ForwardAfterAnInterruptedForward_GivesTheSameBits()
    {
        // The tiled forward takes this thread's tile banks zero and hands them back zero; a forward that fails between
        // the two (simulated by dirtying them without returning) must not leak into the next one.
        var rng = new Random(5);
        const int inF = 300, outF = 40, t = 30, batch = 5;
        var model = new TimingBased.Neurons.Tempotron(inF, outF, t, seed: 3);
        var spikes = Enumerable.Range(0, batch * inF).Select(_ => rng.Next(3) == 0 ? -1f : rng.Next(t)).ToArray();
        var expected = new float[batch * outF];
        model.MaxVoltage(spikes, batch, expected);

        Scratch.Current.TileBanks.Take(8 * t * 16).Fill(3f);
        var actual = new float[batch * outF];
        model.MaxVoltage(spikes, batch, actual);

        Assert.That(actual, Is.EqualTo(expected));
    }
}
