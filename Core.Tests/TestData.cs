namespace TimingBased.Tests;

/// <summary>Seeded inputs and NaN-padded buffers shared by the tests.</summary>
internal static class TestData
{
    /// <summary>The sizes the style guide asks every kernel to be swept over: around vector widths.</summary>
    public static readonly int[] VectorBoundarySizes = [1, 2, 3, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65];

    public const int Pad = 5;

    /// <summary>A buffer of <paramref name="length"/> + 2 * <see cref="Pad"/> NaNs; the payload is [Pad, Pad + length).</summary>
    public static float[] Padded(int length)
    {
        var a = new float[length + (2 * Pad)];
        Array.Fill(a, float.NaN);
        return a;
    }

    public static float[] Padded(ReadOnlySpan<float> payload)
    {
        var a = Padded(payload.Length);
        payload.CopyTo(a.AsSpan(Pad));
        return a;
    }

    public static void AssertPaddingIntact(float[] padded, int length)
    {
        for (var i = 0; i < Pad; i++)
        {
            Assert.That(float.IsNaN(padded[i]), Is.True, $"leading sentinel {i} was overwritten");
            Assert.That(float.IsNaN(padded[Pad + length + i]), Is.True, $"trailing sentinel {i} was overwritten");
        }
    }

    public static float[] Uniform(Random rng, int length, float lo, float hi)
    {
        var a = new float[length];
        for (var i = 0; i < a.Length; i++)
        {
            a[i] = lo + ((hi - lo) * rng.NextSingle());
        }

        return a;
    }

    /// <summary>
    /// Asserts that <paramref name="action"/> allocates nothing in steady state: it runs it until a run of five calls
    /// allocates zero bytes on this thread (at most 200 runs), so that one-time costs the runtime may take while a
    /// method is promoted between JIT tiers (timing-dependent on a busy machine) do not count, and fails with the
    /// last run's bytes otherwise.
    /// </summary>
    public static void AssertSteadyStateAllocatesNothing(Action action)
    {
        long allocated = 0;
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var k = 0; k < 5; k++)
            {
                action();
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated == 0)
            {
                return;
            }
        }

        Assert.That(allocated, Is.Zero, "bytes allocated by five calls after 200 runs of warm-up");
    }
}
