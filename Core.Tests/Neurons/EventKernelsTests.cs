using TimingBased.Neurons;

namespace TimingBased.Tests.Neurons;

/// <summary>The event kernels against plain loops written for clarity, over sizes around the vector widths.</summary>
public class EventKernelsTests
{
    private static IEnumerable<int> Lengths => TestData.VectorBoundarySizes.Concat([0, 100, 257]);

    [TestCaseSource(nameof(Lengths))]
    public void CollectSpikes_ListsInWindowInputsAndTheirTimesInOrder(int length)
    {
        var rng = new Random(length + 11);
        const int window = 20;
        for (var trial = 0; trial < 20; trial++)
        {
            var integerOnly = trial % 2 == 0;
            var row = TempotronForwardTests.RandomSpikes(rng, length, window, integerOnly);

            var (expected, integerTimes) = CollectAndCheckLists(row, window);

            Assert.That(integerTimes, Is.EqualTo(expected.All(i => MathF.Floor(row[i]) == row[i])));
        }
    }

    /// <summary>
    /// Runs <see cref="EventKernels.CollectSpikes"/> and checks its lists against a plain filter; returns the inputs
    /// in the window and the integer flag it reported.
    /// </summary>
    private static (int[] Expected, bool IntegerTimes) CollectAndCheckLists(float[] row, float window)
    {
        var indices = new int[row.Length + EventKernels.IndexSlack];
        var times = new int[indices.Length];

        var count = EventKernels.CollectSpikes(row, window, indices, times, out var integerTimes);

        var expected = Enumerable.Range(0, row.Length).Where(i => row[i] >= 0f && row[i] < window).ToArray();
        Assert.That(count, Is.EqualTo(expected.Length));
        Assert.That(indices[..count], Is.EqualTo(expected));
        Assert.That(times[..count], Is.EqualTo(expected.Select(i => (int)row[i]).ToArray()), "truncated times");
        return (expected, integerTimes);
    }

    [TestCaseSource(nameof(Lengths))]
    public void CollectSpikes_ReportsTheFirstNaN(int length)
    {
        if (length == 0)
        {
            return;
        }

        var rng = new Random(length);
        var row = TempotronForwardTests.RandomSpikes(rng, length, 10);
        var first = rng.Next(length);
        row[first] = float.NaN;
        row[Math.Min(length - 1, first + 3)] = float.NaN;
        var indices = new int[length + EventKernels.IndexSlack];

        var count = EventKernels.CollectSpikes(row, 10, indices, new int[indices.Length], out _);

        Assert.That(count, Is.EqualTo(~first));
    }

    [TestCaseSource(nameof(Lengths))]
    public void CollectSpikes_IntegerFlagAndNaNIgnoreOutOfWindowValues(int length)
    {
        // Out-of-window values that are not integers, or infinite, must not clear the integer flag, and +inf next to
        // -inf (whose sum is NaN) must not be taken for a NaN.
        const int window = 20;
        float[] outside = [-1f, -0.5f, 25.5f, 20f, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, -float.MaxValue];
        var rng = new Random(length + 101);
        var row = new float[length];
        for (var k = 0; k < length; k++)
        {
            row[k] = rng.Next(3) == 0 ? rng.Next(window) : outside[rng.Next(outside.Length)];
        }

        if (length > 0)
        {
            row[rng.Next(length)] = -0f; // in the window, time 0
        }

        var (expected, integerTimes) = CollectAndCheckLists(row, window);

        Assert.That(integerTimes, Is.True);

        if (length > 0)
        {
            row[expected.Length > 0 ? expected[^1] : 0] = 3.25f; // one fractional time in the window
            (_, integerTimes) = CollectAndCheckLists(row, window);
            Assert.That(integerTimes, Is.False);
        }
    }

    [TestCaseSource(nameof(Lengths))]
    public void KeepEarlierThan_KeepsThePairsBelowTheLimitInOrder(int count)
    {
        var rng = new Random(count + 5);
        foreach (var limit in new[] { 0, 1, 7, 50, 100 })
        {
            var times = Enumerable.Range(0, count).Select(_ => rng.Next(100)).ToArray();
            var indices = Enumerable.Range(0, count).Select(k => (3 * k) + rng.Next(3)).ToArray();
            var expected = Enumerable.Range(0, count).Where(k => times[k] < limit).ToArray();
            var expectedIndices = expected.Select(k => indices[k]).ToArray();
            var expectedTimes = expected.Select(k => times[k]).ToArray();
            var spare = rng.Next();
            var paddedIndices = indices.Append(spare).ToArray();
            var paddedTimes = times.Append(spare).ToArray();

            var kept = EventKernels.KeepEarlierThan(paddedIndices, paddedTimes, count, limit);

            Assert.That(kept, Is.EqualTo(expected.Length), $"limit {limit}");
            Assert.That(paddedIndices[..kept], Is.EqualTo(expectedIndices), $"limit {limit}");
            Assert.That(paddedTimes[..kept], Is.EqualTo(expectedTimes), $"limit {limit}");
            Assert.That((paddedIndices[count], paddedTimes[count]), Is.EqualTo((spare, spare)), "nothing written past count");
        }
    }

    [TestCase(1, 1)]
    [TestCase(8, 1)]
    [TestCase(8, 37)]
    [TestCase(16, 100)]
    [TestCase(24, 7)]
    public void MaxAndArgMax_IsTheFirstIndexOfTheMaximumPerColumn(int stride, int steps)
    {
        var rng = new Random((stride * 1000) + steps);
        // Few distinct values, so ties are frequent and the first-index rule is exercised.
        var v = new float[steps * stride];
        for (var k = 0; k < v.Length; k++)
        {
            v[k] = rng.Next(-3, 4) * 0.5f;
        }

        var max = new float[stride];
        var arg = new int[stride];

        EventKernels.MaxAndArgMax(v, stride, max, arg);

        for (var o = 0; o < stride; o++)
        {
            var column = Enumerable.Range(0, steps).Select(t => v[(t * stride) + o]).ToArray();
            Assert.That(max[o], Is.EqualTo(column.Max()), $"column {o}");
            Assert.That(arg[o], Is.EqualTo(Array.IndexOf(column, column.Max())), $"column {o}");
        }
    }

    private const double DecayA = 0.9355069850316178; // exp(-1/15)
    private const double DecayB = 0.7659283383646487; // exp(-1/3.75)
    private const double V0 = 2.1165345;

    [Test]
    public void IntegrateBanks_IsTheRecurrenceOverTheBanksSummedInOrder(
        [Values(1, 9, 10, 16, 20)] int outs, [Values(1, 7, 100)] int steps, [Values] bool withDelta)
    {
        var stride = EventKernels.OutStride(outs);
        var plane = steps * stride;
        var rng = new Random((outs * 1000) + steps + (withDelta ? 7 : 0));
        var banks = Enumerable.Range(0, 4 * plane).Select(_ => rng.Next(4) == 0 ? (float)((rng.NextDouble() * 2) - 1) : 0f).ToArray();
        var delta = withDelta ? Enumerable.Range(0, plane).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray() : [];
        var v = new float[plane];

        // The plain form: add banks 1..3 into bank 0 one after the other, then the double recurrence.
        var expected = new float[plane];
        double[] stateA = new double[stride], stateB = new double[stride];
        for (var t = 0; t < steps; t++)
        {
            for (var o = 0; o < stride; o++)
            {
                var k = (t * stride) + o;
                var a = ((banks[k] + banks[plane + k]) + banks[(2 * plane) + k]) + banks[(3 * plane) + k];
                stateA[o] = (stateA[o] * DecayA) + a;
                stateB[o] = (stateB[o] * DecayB) + (a + (withDelta ? (double)delta[k] : 0.0));
                expected[k] = (float)(V0 * (stateA[o] - stateB[o]));
            }
        }

        EventKernels.IntegrateBanks(banks, 4, delta, stride, DecayA, DecayB, V0, new double[2 * stride], v);

        Assert.That(v, Is.EqualTo(expected));
    }

    [Test]
    public void IntegrateBackward_IsTheReverseRecurrenceFromTheLastNonZeroRow(
        [Values(1, 10, 16, 20)] int outs, [Values(1, 7, 100)] int steps, [Values] bool allPlanes)
    {
        const double tau = 15, tauS = 3.75;
        var stride = EventKernels.OutStride(outs);
        var plane = steps * stride;
        var rng = new Random((outs * 1000) + steps + (allPlanes ? 3 : 0));
        var rows = 1 + rng.Next(steps);
        var g = new float[plane];
        for (var k = 0; k < rows * stride; k++)
        {
            g[k] = rng.Next(3) == 0 ? (float)((rng.NextDouble() * 2) - 1) : 0f;
        }

        float[] Garbage() => Enumerable.Repeat(float.NaN, plane).ToArray(); // every element must be written
        var (ga, gb, gk, gs) = (Garbage(), Garbage(), Garbage(), Garbage());
        var expected = new float[4][];
        for (var p = 0; p < 4; p++)
        {
            expected[p] = new float[plane];
        }

        double[] stateA = new double[stride], stateB = new double[stride];
        for (var t = rows - 1; t >= 0; t--)
        {
            for (var o = 0; o < stride; o++)
            {
                var k = (t * stride) + o;
                stateA[o] = (stateA[o] * DecayA) + g[k];
                stateB[o] = (stateB[o] * DecayB) + g[k];
                expected[0][k] = (float)(V0 * stateA[o]);
                expected[1][k] = (float)(V0 * stateB[o]);
                expected[2][k] = (float)(V0 * (stateA[o] - stateB[o]));
                expected[3][k] = (float)(V0 * ((stateA[o] * (1.0 / tau)) - (stateB[o] * (1.0 / tauS))));
            }
        }

        EventKernels.IntegrateBackward(g, rows, stride, DecayA, DecayB, V0, tau, tauS, new double[2 * stride],
            allPlanes ? ga : default, gb, gk, gs);

        Assert.That(gk, Is.EqualTo(expected[2]), "gk");
        if (allPlanes)
        {
            Assert.That(ga, Is.EqualTo(expected[0]), "ga");
            Assert.That(gb, Is.EqualTo(expected[1]), "gb");
            Assert.That(gs, Is.EqualTo(expected[3]), "gs");
        }
    }

    [Test]
    public void ScatterRows_AddsEachSpikesRowIntoItsTimeInItsBank([ValueSource(nameof(Lengths))] int spikes, [Values(10, 20)] int outs)
    {
        // 10 outputs take the 16-float-row kernel on 256-bit hardware; 20 outputs the general loop.
        const int rows = 40, steps = 30;
        var stride = EventKernels.OutStride(outs);
        var plane = steps * stride;
        var rng = new Random(spikes + 3);
        var weights = Enumerable.Range(0, rows * stride).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
        var indices = Enumerable.Range(0, spikes).Select(_ => rng.Next(rows)).ToArray();
        var times = Enumerable.Range(0, spikes).Select(_ => rng.Next(3) == 0 ? 7 : rng.Next(steps)).ToArray(); // many repeats
        var banks = new float[EventKernels.ScatterBanks * plane];
        var expected = new float[banks.Length];
        for (var k = 0; k < spikes; k++)
        {
            var bank = k < spikes - (spikes % 4) ? k % 4 : 0; // the last count % 4 spikes go to bank 0
            for (var o = 0; o < stride; o++)
            {
                expected[(bank * plane) + (times[k] * stride) + o] += weights[(indices[k] * stride) + o];
            }
        }

        EventKernels.ScatterRows(ref weights[0], ref banks[0], plane, indices, times, stride);

        Assert.That(banks, Is.EqualTo(expected));
    }
}
