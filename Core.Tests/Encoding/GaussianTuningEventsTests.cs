using TimingBased.Encoding;
using TimingBased.Events;

namespace TimingBased.Tests.Encoding;

/// <summary>The event encoder against the dense one: the same spikes, bit for bit, on random and adversarial values.</summary>
public class GaussianTuningEventsTests
{
    private static void AssertSameSpikes(GaussianTuning encoder, float[] x, int batch, int maxSpikeTime)
    {
        var dense = new float[x.Length * encoder.M];
        encoder.Encode(x, batch, maxSpikeTime, dense);
        var perPattern = dense.Length / batch;
        var events = new SpikeEvents(perPattern);
        encoder.Encode(x, batch, maxSpikeTime, events);
        Assert.That(events.PatternCount, Is.EqualTo(batch));
        for (var b = 0; b < batch; b++)
        {
            var pattern = events[b];
            var row = dense.AsSpan(b * perPattern, perPattern).ToArray();
            var expected = Enumerable.Range(0, perPattern).Where(i => row[i] >= 0).ToArray();
            Assert.That(pattern.Afferents.ToArray(), Is.EqualTo(expected), $"pattern {b}: which afferents spike");
            Assert.That(pattern.IsAfferentOrdered || pattern.Count <= 1, Is.True);
            for (var k = 0; k < expected.Length; k++)
            {
                Assert.That(BitConverter.SingleToInt32Bits((float)pattern.Times[k]), Is.EqualTo(BitConverter.SingleToInt32Bits(row[expected[k]])),
                    $"pattern {b}, afferent {expected[k]}: time");
                Assert.That(pattern.Times[k], Is.EqualTo((double)(float)pattern.Times[k]), "a float32 time");
            }
        }
    }

    [Test]
    public void RandomValues_GiveTheDenseSpikes([Values(3, 4, 7, 8, 9, 16, 17, 33)] int m, [Values(0, 1, 5, 100, 1000)] int maxSpikeTime)
    {
        var rng = new Random((m * 31) + maxSpikeTime);
        var encoder = new GaussianTuning(2, m, [0f, -3f], [1f, 5f]);
        var x = TestData.Uniform(rng, 3 * 2 * 57, -4f, 6f);
        for (var k = 0; k < x.Length; k += 7)
        {
            x[k] = x[Math.Max(0, k - 1)]; // repeated values take the copy path
        }

        AssertSameSpikes(encoder, x, 3, maxSpikeTime);
    }

    [Test]
    public void RunsOfOneValue_GiveTheDenseSpikes([Values(3, 5, 16, 17, 64, 65)] int m)
    {
        // Runs of every length around the block size (8) and the row's end, values the block path replays.
        var rng = new Random(m);
        var encoder = new GaussianTuning(1, m, [0f], [1f]);
        var x = new List<float>();
        foreach (var run in new[] { 1, 2, 7, 8, 9, 15, 16, 17, 24, 3, 40, 8, 1 })
        {
            var value = rng.Next(4) == 0 ? 0f : rng.Next(256) / 255f;
            x.AddRange(Enumerable.Repeat(value, run));
        }

        while (x.Count % 2 != 0)
        {
            x.Add(0.5f);
        }

        AssertSameSpikes(encoder, [.. x], 2, 100);
    }

    [Test]
    public void CacheAcrossCalls_FollowsTheEncoderAndWindow()
    {
        // The per-thread value cache outlives a call: interleave encoders with other centres and widths, other windows
        // and other m on one thread, with the same values, and compare each call with its own dense output.
        var rng = new Random(5);
        var encoders = new[]
        {
            new GaussianTuning(1, 16, [0f], [1f]),
            new GaussianTuning(1, 16, [0f], [2f]),
            new GaussianTuning(1, 16, [-1f], [1f]),
            new GaussianTuning(1, 8, [0f], [1f]),
            new GaussianTuning(2, 16, [0f, 0f], [1f, 1f]),
        };
        var values = Enumerable.Range(0, 4 * 64).Select(_ => rng.Next(256) / 255f).ToArray();
        for (var round = 0; round < 12; round++)
        {
            var encoder = encoders[rng.Next(encoders.Length)];
            var window = new[] { 100, 100, 50, 7 }[rng.Next(4)];
            AssertSameSpikes(encoder, values, 2, window);
        }
    }

    [Test]
    public void ManyDistinctValues_GiveTheDenseSpikes()
    {
        // More distinct values than the cache's slots (slots are claimed and refilled many times over in one call).
        var rng = new Random(9);
        var encoder = new GaussianTuning(1, 16, [0f], [1f]);
        var x = TestData.Uniform(rng, 4 * 3000, -0.2f, 1.2f);
        for (var k = 0; k < x.Length; k += 3)
        {
            x[k] = rng.Next(300) / 299f; // and repeats among them
        }

        // Runs of 12 of values from a pool larger than the cache: a slot whose run block was built is refilled with
        // another value, which then runs too.
        var pool = TestData.Uniform(rng, 2000, -0.1f, 1.1f);
        for (var at = 6000; at + 12 <= x.Length; at += 12)
        {
            Array.Fill(x, pool[rng.Next(pool.Length)], at, 12);
        }

        AssertSameSpikes(encoder, x, 4, 100);
        AssertSameSpikes(encoder, x, 4, 100);
    }

    [Test]
    public void BoundaryValues_GiveTheDenseSpikes([Values(3, 8, 16, 17)] int m, [Values(1, 2, 50, 100, 1 << 24)] int maxSpikeTime)
    {
        // Values at every centre, every midpoint, and just inside and outside every neuron's firing reach, each
        // nudged by a few ulps either way, on a plain range, a tiny one and one far from zero.
        foreach (var (lo, hi) in new[] { (0f, 1f), (-1e-4f, 1e-4f), (1e6f, 1e6f + 3f), (-250f, 9000f) })
        {
            var encoder = new GaussianTuning(1, m, [lo], [hi]);
            var mu = encoder.Mu.ToArray();
            var sigma2 = encoder.Sigma2[0];
            var tMax = maxSpikeTime == 0 ? 100 : maxSpikeTime;
            var qCut = Math.Log(4.0 * tMax) + 1.0;
            var reach = (float)Math.Sqrt(qCut * 2 * sigma2);
            var fireReach = (float)Math.Sqrt(Math.Log(2.0 * tMax) * 2 * sigma2); // the last neuron that can fire
            var values = new List<float> { lo, hi, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, -float.MaxValue, 0f, -0f };
            for (var j = 0; j < m; j++)
            {
                foreach (var v in new[] { mu[j], j + 1 < m ? (mu[j] + mu[j + 1]) / 2 : mu[j], mu[j] + reach, mu[j] - reach, mu[j] + (reach / 2), mu[j] + fireReach, mu[j] - fireReach })
                {
                    var f = v;
                    for (var step = 0; step < 4; step++)
                    {
                        values.Add(f);
                        f = MathF.BitIncrement(f);
                    }

                    f = v;
                    for (var step = 0; step < 4; step++)
                    {
                        f = MathF.BitDecrement(f);
                        values.Add(f);
                    }
                }
            }

            AssertSameSpikes(encoder, [.. values], 1, maxSpikeTime);
        }
    }

    [Test]
    public void BadInput_ThrowsAndAppendsNothing()
    {
        var encoder = new GaussianTuning(1, 4, [0f], [1f]);
        var events = new SpikeEvents(12);
        Assert.That(Assert.Throws<ArgumentException>(() => encoder.Encode([0.1f, float.NaN, 0.3f], 1, events))!.ParamName, Is.EqualTo("x"));
        Assert.That(Assert.Throws<ArgumentException>(() => encoder.Encode([0.1f, 0.2f], 1, events))!.ParamName, Is.EqualTo("destination"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => encoder.Encode([0.1f, 0.2f, 0.3f], 1, -1, events))!.ParamName, Is.EqualTo("maxSpikeTime"));
        Assert.That(events.PatternCount, Is.Zero);
        Assert.That(events.EventCount, Is.Zero);
        encoder.Encode([0.1f, 0.5f, 0.9f], 1, 100, events);
        Assert.That(events[0].Times.ToArray(), Is.EqualTo(new double[] { 42, 10, 85, 92, 25, 25, 92, 85, 10, 42 }), "SpikingJelly's documented example");
    }

    [Test]
    public void Refilling_AllocatesNothing([Values(1, 100)] int n, [Values(16, 300)] int m)
    {
        // Including the shapes too large for the stack (more than 64 channels, more than 256 neurons) and m above the
        // value cache's limit.
        var xMin = new float[n];
        var xMax = Enumerable.Repeat(1f, n).ToArray();
        var encoder = new GaussianTuning(n, m, xMin, xMax);
        var samples = n == 1 ? 784 : 8;
        var x = TestData.Uniform(new Random(3), 4 * n * samples, 0f, 1f);
        var events = new SpikeEvents(n * samples * m);
        encoder.Encode(x, 4, 100, events);
        events.Clear();
        encoder.Encode(x, 4, 100, events);
        TestData.AssertSteadyStateAllocatesNothing(() =>
        {
            events.Clear();
            encoder.Encode(x, 4, 100, events);
        });
    }
}
