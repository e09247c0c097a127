using TimingBased.Neurons.Kernels;

namespace TimingBased.Tests.Neurons.Kernels;

/// <summary>
/// Every kernel family against plain loops written for clarity, over sizes around the vector widths, on every
/// instruction-set path this CPU supports (all in this one process; CI also reruns the suite with AVX-512, AVX2 and
/// all intrinsics switched off).
/// </summary>
public class KernelTests
{
    private static IEnumerable<int> Lengths => TestData.VectorBoundarySizes.Concat([0, 100, 257]);

    private static IEnumerable<int> NonEmptyLengths => Lengths.Where(n => n > 0);

    /// <summary>The names of the paths this CPU supports (a name, since <see cref="KernelPath"/> is internal).</summary>
    public static IEnumerable<string> Paths => KernelPaths.Supported.Select(p => p.ToString());

    private static KernelPath P(string name) => Enum.Parse<KernelPath>(name);

    /// <summary>The supported paths that run the 16-wide tile kernels, or one "none" case where no path does (so the run reports it skipped).</summary>
    public static IEnumerable<string> TilePaths =>
        KernelPaths.Supported.Any(Scatter.UseTiles) ? KernelPaths.Supported.Where(Scatter.UseTiles).Select(p => p.ToString()) : ["none"];

    /// <summary>Skips, visibly (counted as skipped), a test whose kernel this process cannot run.</summary>
    private static void RequireSupported(KernelPath path, string why)
    {
        if (!KernelPaths.IsSupported(path))
        {
            Assert.Ignore($"{path} is not available in this process: {why}.");
        }
    }

    [Test]
    public void Paths_IncludeScalarAndTheBestPath()
    {
        Assert.That(KernelPaths.Supported, Does.Contain(KernelPath.Scalar).And.Contain(KernelPaths.Best));
        Assert.That(KernelPaths.Supported, Is.Ordered);
    }

    [Test]
    public void CollectSpikes_ListsInWindowInputsAndTheirTimesInOrder([ValueSource(nameof(Paths))] string path, [ValueSource(nameof(Lengths))] int length)
    {
        var rng = new Random(length + 11);
        const int window = 20;
        for (var trial = 0; trial < 20; trial++)
        {
            var integerOnly = trial % 2 == 0;
            var row = TempotronForwardTests.RandomSpikes(rng, length, window, integerOnly);

            var (expected, integerTimes) = CollectAndCheckLists(P(path), row, window);

            Assert.That(integerTimes, Is.EqualTo(expected.All(i => MathF.Floor(row[i]) == row[i])));
        }
    }

    /// <summary>
    /// Runs <see cref="SpikeLists.Collect"/> and checks its lists against a plain filter; returns the inputs
    /// in the window and the integer flag it reported.
    /// </summary>
    private static (int[] Expected, bool IntegerTimes) CollectAndCheckLists(KernelPath path, float[] row, float window)
    {
        var indices = new int[row.Length + SpikeLists.IndexSlack];
        var times = new int[indices.Length];

        var count = SpikeLists.Collect(path, row, window, indices, times, out var integerTimes);

        var expected = Enumerable.Range(0, row.Length).Where(i => row[i] >= 0f && row[i] < window).ToArray();
        Assert.That(count, Is.EqualTo(expected.Length));
        Assert.That(indices[..count], Is.EqualTo(expected));
        Assert.That(times[..count], Is.EqualTo(expected.Select(i => (int)row[i]).ToArray()), "truncated times");
        return (expected, integerTimes);
    }

    [Test]
    public void CollectSpikes_ReportsTheFirstNaN([ValueSource(nameof(Paths))] string path, [ValueSource(nameof(NonEmptyLengths))] int length)
    {
        var rng = new Random(length);
        var row = TempotronForwardTests.RandomSpikes(rng, length, 10);
        var first = rng.Next(length);
        row[first] = float.NaN;
        row[Math.Min(length - 1, first + 3)] = float.NaN;
        var indices = new int[length + SpikeLists.IndexSlack];

        var count = SpikeLists.Collect(P(path), row, 10, indices, new int[indices.Length], out _);

        Assert.That(count, Is.EqualTo(~first));
    }

    [Test]
    public void CollectSpikes_IntegerFlagAndNaNIgnoreOutOfWindowValues([ValueSource(nameof(Paths))] string path, [ValueSource(nameof(Lengths))] int length)
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

        var (expected, integerTimes) = CollectAndCheckLists(P(path), row, window);

        Assert.That(integerTimes, Is.True);

        if (length > 0)
        {
            row[expected.Length > 0 ? expected[^1] : 0] = 3.25f; // one fractional time in the window
            (_, integerTimes) = CollectAndCheckLists(P(path), row, window);
            Assert.That(integerTimes, Is.False);
        }
    }

    [Test]
    public void CollectSpikes_TellsTheSmallestFractionsFromIntegers(
        [ValueSource(nameof(Paths))] string path, [Values(1e-45f, 1.1754942e-38f, 0.99999994f, 18.999998f, 8388607.5f)] float fraction)
    {
        // The smallest subnormal, the largest subnormal, and times one ulp below an integer: each alone in a row of
        // integers (at every lane position of a 16-lane step) clears the integer flag; -0 and +0 beside them do not.
        const int length = 37;
        var window = Math.Max(20f, fraction + 1f);
        for (var at = 0; at < length; at++)
        {
            var row = Enumerable.Range(0, length).Select(k => k % 5 == 0 ? -0f : k % 7).Select(v => (float)v).ToArray();
            row[at] = fraction;

            var (_, integerTimes) = CollectAndCheckLists(P(path), row, window);

            Assert.That(integerTimes, Is.False, $"a time of {fraction:R} at {at}");
        }
    }

    [Test]
    public void KeepEarlierThan_KeepsThePairsBelowTheLimitInOrder([ValueSource(nameof(Paths))] string path, [ValueSource(nameof(Lengths))] int count)
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

            var kept = SpikeLists.KeepEarlierThan(P(path), paddedIndices, paddedTimes, count, limit);

            Assert.That(kept, Is.EqualTo(expected.Length), $"limit {limit}");
            Assert.That(paddedIndices[..kept], Is.EqualTo(expectedIndices), $"limit {limit}");
            Assert.That(paddedTimes[..kept], Is.EqualTo(expectedTimes), $"limit {limit}");
            Assert.That((paddedIndices[count], paddedTimes[count]), Is.EqualTo((spare, spare)), "nothing written past count");
        }
    }

    [Test]
    public void PackShift_IsTheBitsOfTheLastStep_WhereTheEntriesFit([Values(1, 2, 3, 100, 128, 129, 4096)] int steps)
    {
        var bits = steps <= 2 ? 1 : 32 - int.LeadingZeroCount(steps - 1);
        RequireSupported(KernelPath.Avx512, "packed lists are collected on AVX-512");

        Assert.That(SpikeLists.PackShift(KernelPath.Avx512, 12544, steps), Is.EqualTo(bits));
        Assert.That(1 << bits, Is.GreaterThanOrEqualTo(steps), "every time below steps fits");
        Assert.That(SpikeLists.PackShift(KernelPath.Avx512, (int.MaxValue >> bits) + 1, steps), Is.Zero, "inputs that do not fit");
        Assert.That(SpikeLists.PackShift(KernelPath.Avx512, int.MaxValue >> bits, steps), Is.EqualTo(bits), "the most inputs that fit");
        Assert.That(SpikeLists.PackShift(KernelPath.Vector256, 12544, steps), Is.Zero, "two lists below AVX-512");
    }

    [Test]
    public void Collect_RefusesListBuffersWithoutTheirSlack([ValueSource(nameof(Paths))] string path, [Values(1, 17, 40)] int length)
    {
        var row = TempotronForwardTests.RandomSpikes(new Random(length), length, 10);
        var enough = length + SpikeLists.IndexSlack;

        Assert.Multiple(() =>
        {
            Assert.Throws<InvalidOperationException>(() => SpikeLists.Collect(P(path), row, 10, new int[enough - 1], new int[enough], out _));
            Assert.Throws<InvalidOperationException>(() => SpikeLists.Collect(P(path), row, 10, new int[enough], new int[enough - 1], out _));
            Assert.That(SpikeLists.Collect(P(path), row, 10, new int[enough], new int[enough], out _), Is.GreaterThanOrEqualTo(0));
        });
    }

    [Test]
    public void CollectPacked_RefusesABufferWithoutItsSlack()
    {
        RequireSupported(KernelPath.Avx512, "packed lists are collected on AVX-512");
        var row = TempotronForwardTests.RandomSpikes(new Random(3), 40, 10);
        var shift = SpikeLists.PackShift(KernelPath.Avx512, row.Length, 10);

        Assert.Throws<InvalidOperationException>(() => SpikeLists.CollectPacked(row, 10, new int[row.Length + SpikeLists.IndexSlack - 1], shift, out _));
    }

    [Test]
    public void CollectPacked_IsCollectPacked_AndUnpacksToIt([ValueSource(nameof(Lengths))] int length, [Values(1, 20, 100)] int window)
    {
        RequireSupported(KernelPath.Avx512, "packed lists are collected on AVX-512");
        var shift = SpikeLists.PackShift(KernelPath.Avx512, length, window);
        var rng = new Random(length + (7 * window));
        float[] outside = [-1f, -0.5f, window + 0.5f, window, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, -0f];
        for (var trial = 0; trial < 12; trial++)
        {
            var row = trial < 4 ? TempotronForwardTests.RandomSpikes(rng, length, window, integerOnly: trial % 2 == 0)
                : Enumerable.Range(0, length).Select(_ => rng.Next(3) == 0 ? outside[rng.Next(outside.Length)] : trial % 3 == 0 ? rng.Next(window) + 0.25f : rng.Next(window)).ToArray();
            if (trial >= 8 && length > 0)
            {
                row[rng.Next(length)] = float.NaN;
            }

            var indices = new int[length + SpikeLists.IndexSlack];
            var times = new int[indices.Length];
            var expectedCount = SpikeLists.Collect(KernelPath.Avx512, row, window, indices, times, out var expectedInteger);
            var packed = new int[indices.Length];

            var count = SpikeLists.CollectPacked(row, window, packed, shift, out var integerTimes);

            Assert.That((count, integerTimes), Is.EqualTo((expectedCount, expectedInteger)), $"trial {trial}");
            if (count < 0)
            {
                continue; // the first NaN, as Collect reports it
            }

            Assert.That(packed[..count], Is.EqualTo(Enumerable.Range(0, count).Select(k => (indices[k] << shift) | times[k]).ToArray()), $"trial {trial}");
            var unpackedTimes = new int[packed.Length];
            SpikeLists.Unpack(packed, unpackedTimes, count, shift);
            Assert.That((packed[..count], unpackedTimes[..count]), Is.EqualTo((indices[..count], times[..count])), $"trial {trial}: unpacked");
        }
    }

    [Test]
    public void KeepPackedEarlierThan_IsKeepEarlierThanPacked([ValueSource(nameof(Paths))] string path, [ValueSource(nameof(Lengths))] int count)
    {
        const int shift = 7;
        var rng = new Random(count + 9);
        foreach (var limit in new[] { 0, 1, 7, 50, 100, 128 })
        {
            var times = Enumerable.Range(0, count).Select(_ => rng.Next(100)).ToArray();
            var indices = Enumerable.Range(0, count).Select(k => (3 * k) + rng.Next(3)).ToArray();
            var packed = indices.Select((i, k) => (i << shift) | times[k]).Append(-5).ToArray();
            var keptIndices = indices.Append(0).ToArray();
            var keptTimes = times.Append(0).ToArray();
            var expected = SpikeLists.KeepEarlierThan(KernelPath.Scalar, keptIndices, keptTimes, count, limit);

            var kept = SpikeLists.KeepPackedEarlierThan(P(path), packed, count, limit, shift);

            Assert.That(kept, Is.EqualTo(expected), $"limit {limit}");
            Assert.That(packed[..kept], Is.EqualTo(Enumerable.Range(0, kept).Select(k => (keptIndices[k] << shift) | keptTimes[k]).ToArray()), $"limit {limit}");
            Assert.That(packed[count], Is.EqualTo(-5), "nothing written past count");
        }
    }

    [Test]
    public void ScatterPacked_IsTheScatterOfTheTwoLists_BitForBit([ValueSource(nameof(Lengths))] int spikesA, [Values(0, 3, 33)] int spikesB, [Values(16, 48)] int weightStride)
    {
        RequireSupported(KernelPath.Avx512, "packed lists are collected on AVX-512");
        const int rows = 40, steps = 30, shift = 5;
        var plane = steps * RowOps.TileWidth;
        var rng = new Random((spikesA * 100) + spikesB + weightStride);
        var weights = Enumerable.Range(0, rows * weightStride).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
        (int[] Indices, int[] Times, int[] Packed) List(int spikes)
        {
            var indices = Enumerable.Range(0, spikes).Select(_ => rng.Next(rows)).ToArray();
            var times = Enumerable.Range(0, spikes).Select(_ => rng.Next(3) == 0 ? 7 : rng.Next(steps)).ToArray(); // many repeats
            return (indices, times, indices.Select((i, k) => (i << shift) | times[k]).ToArray());
        }

        var a = List(spikesA);
        var b = List(spikesB);
        foreach (var column in Enumerable.Range(0, weightStride / RowOps.TileWidth).Select(tile => tile * RowOps.TileWidth))
        {
            float[] expectedA = new float[Scatter.Banks * plane], expectedB = new float[expectedA.Length];
            Scatter.RowsOfTile(KernelPath.Vector256, new TwoLists(a.Indices, a.Times), ref weights[column], ref expectedA[0], plane, weightStride);
            Scatter.RowsOfTile(KernelPath.Vector256, new TwoLists(b.Indices, b.Times), ref weights[column], ref expectedB[0], plane, weightStride);
            float[] oneA = new float[expectedA.Length], pairA = new float[expectedA.Length], pairB = new float[expectedA.Length], unpackedPairA = new float[expectedA.Length], unpackedPairB = new float[expectedA.Length];

            Scatter.RowsOfTile(KernelPath.Avx512, new PackedList(a.Packed, shift), ref weights[column], ref oneA[0], plane, weightStride);
            Scatter.RowsOfTilePair(KernelPath.Avx512, ref weights[column], new PackedList(a.Packed, shift), ref pairA[0], new PackedList(b.Packed, shift), ref pairB[0], plane, weightStride);
            Scatter.RowsOfTilePair(KernelPath.Avx512, ref weights[column], new TwoLists(a.Indices, a.Times), ref unpackedPairA[0], new TwoLists(b.Indices, b.Times), ref unpackedPairB[0], plane, weightStride);

            Assert.That(Bits(oneA), Is.EqualTo(Bits(expectedA)), $"one sample, column {column}");
            Assert.That((Bits(pairA), Bits(pairB)), Is.EqualTo((Bits(expectedA), Bits(expectedB))), $"a pair, column {column}");
            Assert.That((Bits(unpackedPairA), Bits(unpackedPairB)), Is.EqualTo((Bits(expectedA), Bits(expectedB))), $"the unpacked pair, column {column}");
        }
    }

    [Test]
    public void RowsByTimePacked_IsRowsByTimeOfTheTwoLists_BitForBit([ValueSource(nameof(Lengths))] int spikes, [Values(16, 48)] int stride)
    {
        RequireSupported(KernelPath.Avx512, "packed lists are collected on AVX-512");
        const int steps = 30, shift = 5;
        var rng = new Random(spikes + stride);
        var inputs = Enumerable.Range(0, 3 * (spikes + 1)).Where(_ => rng.Next(3) == 0).Take(spikes).ToArray();
        var count = inputs.Length;
        var times = inputs.Select(_ => rng.Next(steps)).Append(0).ToArray();
        var list = inputs.Append(0).ToArray();
        var packed = inputs.Select((i, k) => (i << shift) | times[k]).Append(0).ToArray();
        var gk = Enumerable.Range(0, steps * stride).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
        var firstRow = count == 0 ? 0 : inputs[0];
        var rows = ((count == 0 ? 1 : inputs[^1] + 1) - firstRow) * stride;
        foreach (var end in new[] { 0, count == 0 ? 0 : inputs[count / 2], count == 0 ? 1 : inputs[^1] + 1 })
        {
            var expected = new float[rows];
            var expectedNext = Scatter.RowsByTime(KernelPath.Avx512, new TwoLists(list.AsSpan(0, count), times), 0, end, ref expected[0], firstRow, ref gk[0], stride);
            var whole = new float[rows];
            var byTile = new float[rows];

            var next = Scatter.RowsByTime(KernelPath.Avx512, new PackedList(packed.AsSpan(0, count), shift), 0, end, ref whole[0], firstRow, ref gk[0], stride);
            for (var column = 0; column < stride; column += RowOps.TileWidth)
            {
                Assert.That(Scatter.RowsByTimeOfTile(KernelPath.Avx512, new PackedList(packed.AsSpan(0, count), shift), 0, end, ref byTile[column], firstRow, ref gk[column], stride),
                    Is.EqualTo(expectedNext), $"end {end}, tile {column}");
            }

            Assert.That(next, Is.EqualTo(expectedNext), $"end {end}");
            Assert.That((Bits(whole), Bits(byTile)), Is.EqualTo((Bits(expected), Bits(expected))), $"end {end}");
        }
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    [Test]
    public void MaxAndArgMax_IsTheFirstIndexOfTheMaximumPerColumn(
        [ValueSource(nameof(Paths))] string path, [Values(1, 8, 16, 24)] int stride, [Values(1, 37, 100)] int steps)
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

        RowOps.MaxAndArgMax(RowOps.UseVector(P(path), stride), v, stride, max, arg);

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
    private static readonly PspDecay _decay = new(DecayA, DecayB, V0, 1.0 / 15, 1.0 / 3.75); // tau 15, tauS 3.75

    [Test]
    public void IntegrateBanks_IsTheRecurrenceOverTheBanksSummedInOrder(
        [ValueSource(nameof(Paths))] string path, [Values(1, 9, 10, 16, 20)] int outs, [Values(1, 7, 100)] int steps, [Values] bool withDelta)
    {
        var stride = RowOps.OutStride(outs);
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

        Recurrence.IntegrateBanks(P(path), banks, delta, stride, _decay, new double[2 * stride], v);

        Assert.That(v, Is.EqualTo(expected));
    }

    [Test]
    public void IntegrateBackward_IsTheReverseRecurrenceFromTheLastNonZeroRow(
        [ValueSource(nameof(Paths))] string path, [Values(1, 10, 16, 20)] int outs, [Values(1, 7, 100)] int steps, [Values] bool allPlanes)
    {
        const double tau = 15, tauS = 3.75;
        var stride = RowOps.OutStride(outs);
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

        Recurrence.IntegrateBackward(P(path), g, rows, stride, _decay, new double[2 * stride],
            new(allPlanes ? ga : default, gb, gk, gs));

        Assert.That(gk, Is.EqualTo(expected[2]), "gk");
        if (allPlanes)
        {
            Assert.That(ga, Is.EqualTo(expected[0]), "ga");
            Assert.That(gb, Is.EqualTo(expected[1]), "gb");
            Assert.That(gs, Is.EqualTo(expected[3]), "gs");
        }
    }

    [Test]
    public void IntegrateTilePairWithPeaks_IsTheTileRecurrenceThenMaxAndArgMax_AndClearsTheBanks(
        [ValueSource(nameof(TilePaths))] string path, [Values(1, 2, 7, 100)] int steps)
    {
        if (path == "none")
        {
            Assert.Ignore("no path of this process has 256-bit vectors, which the tile kernels need.");
        }

        var p = P(path);
        const int width = RowOps.TileWidth;
        var plane = steps * width;
        var rng = new Random(steps);
        // Few distinct bank values (and some all-zero columns), so voltages tie often and the first-step rule matters.
        float[] Banks() => Enumerable.Range(0, 4 * plane).Select(k => (k % width) < 3 ? 0f : rng.Next(5) == 0 ? rng.Next(-2, 3) * 0.25f : 0f).ToArray();
        var banksA = Banks();
        var banksB = Banks();
        var expectedA = new float[plane];
        var expectedB = new float[plane];
        var (expectedMaxA, expectedArgA) = PlainTileRecurrence(banksA, steps, expectedA);
        var (expectedMaxB, expectedArgB) = PlainTileRecurrence(banksB, steps, expectedB);

        float[] vA = new float[plane], vB = new float[plane], maxA = new float[width], maxB = new float[width];
        int[] argA = new int[width], argB = new int[width];
        Recurrence.IntegrateTilePairWithPeaks(p, new(banksA, banksB, vA, vB, maxA, argA, maxB, argB), _decay);

        Assert.That(vA.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expectedA.Select(BitConverter.SingleToInt32Bits)), "voltages A");
        Assert.That(vB.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expectedB.Select(BitConverter.SingleToInt32Bits)), "voltages B");
        Assert.That((maxA, argA, maxB, argB), Is.EqualTo((expectedMaxA, expectedArgA, expectedMaxB, expectedArgB)), "peaks");
        Assert.That(banksA.Concat(banksB).All(x => BitConverter.SingleToInt32Bits(x) == 0), Is.True, "banks left +0");
    }

    /// <summary>
    /// The tile recurrence written plainly, column by column: the four banks summed in order as floats, then
    /// <c>a = a decayA + x</c>, <c>s = s decayB + x</c> in double and <c>V = (float)(V0 (a - s))</c>; the peak is the first
    /// step with the largest voltage.
    /// </summary>
    private static (float[] Max, int[] ArgMax) PlainTileRecurrence(float[] banks, int steps, float[] v)
    {
        const int width = RowOps.TileWidth;
        var plane = steps * width;
        var max = new float[width];
        var arg = new int[width];
        for (var c = 0; c < width; c++)
        {
            double a = 0, s = 0;
            for (var t = 0; t < steps; t++)
            {
                var k = (t * width) + c;
                var x = (double)(((banks[k] + banks[plane + k]) + banks[(2 * plane) + k]) + banks[(3 * plane) + k]);
                a = (a * DecayA) + x;
                s = (s * DecayB) + x;
                v[k] = (float)(V0 * (a - s));
                if (t == 0 || v[k] > max[c])
                {
                    (max[c], arg[c]) = (v[k], t);
                }
            }
        }

        return (max, arg);
    }

    [Test]
    public void IntegrateBackwardGkOfTile_IsTheWholeRowsGkOfThatTile(
        [ValueSource(nameof(TilePaths))] string path, [Values(32, 48, 112)] int stride, [Values(1, 7, 100)] int steps)
    {
        var rng = new Random((stride * 100) + steps);
        var rows = 1 + rng.Next(steps);
        var g = new float[steps * stride];
        for (var k = 0; k < rows * stride; k++)
        {
            g[k] = rng.Next(3) == 0 ? (float)((rng.NextDouble() * 2) - 1) : 0f;
        }

        var whole = new float[g.Length];
        Recurrence.IntegrateBackward(KernelPath.Scalar, g, rows, stride, _decay, new double[2 * stride], new(default, new float[g.Length], whole, new float[g.Length]));
        if (path == "none")
        {
            Assert.Ignore("no path of this process has 256-bit vectors, which the tile kernels need.");
        }

        var tiles = Enumerable.Repeat(float.NaN, g.Length).ToArray();
        for (var column = 0; column < stride; column += RowOps.TileWidth)
        {
            Recurrence.IntegrateBackwardGkOfTile(P(path), g.AsSpan(column), rows, stride, _decay, tiles.AsSpan(column));
        }

        Assert.That(tiles.Take(rows * stride).Select(BitConverter.SingleToInt32Bits), Is.EqualTo(whole.Take(rows * stride).Select(BitConverter.SingleToInt32Bits)));
        Assert.That(tiles.Skip(rows * stride).All(float.IsNaN), Is.True, "rows from `rows` on are not written");
    }

    [Test]
    public void ScatterRows_AddsEachSpikesRowIntoItsTimeInItsBank(
        [ValueSource(nameof(Paths))] string path, [ValueSource(nameof(Lengths))] int spikes, [Values(10, 20)] int outs)
    {
        // 10 outputs take the 16-float-row kernel on 256-bit paths; 20 outputs the general loop.
        const int rows = 40, steps = 30;
        var stride = RowOps.OutStride(outs);
        var plane = steps * stride;
        var rng = new Random(spikes + 3);
        var weights = Enumerable.Range(0, rows * stride).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
        var indices = Enumerable.Range(0, spikes).Select(_ => rng.Next(rows)).ToArray();
        var times = Enumerable.Range(0, spikes).Select(_ => rng.Next(3) == 0 ? 7 : rng.Next(steps)).ToArray(); // many repeats
        var banks = new float[Scatter.Banks * plane];
        var expected = new float[banks.Length];
        for (var k = 0; k < spikes; k++)
        {
            var bank = k < spikes - (spikes % 4) ? k % 4 : 0; // the last count % 4 spikes go to bank 0
            for (var o = 0; o < stride; o++)
            {
                expected[(bank * plane) + (times[k] * stride) + o] += weights[(indices[k] * stride) + o];
            }
        }

        Scatter.Rows(P(path), ref weights[0], ref banks[0], plane, indices, times, stride);

        Assert.That(banks, Is.EqualTo(expected));
    }

    [Test]
    public void RowsByTime_AddsEachSpikesGradientRowIntoItsInputRow(
        [ValueSource(nameof(Paths))] string path, [ValueSource(nameof(Lengths))] int spikes, [Values(10, 20)] int outs)
    {
        // Distinct, increasing inputs (a spike list); stops at the first input >= end.
        const int steps = 30;
        var stride = RowOps.OutStride(outs);
        var rng = new Random(spikes + 17);
        var inputs = Enumerable.Range(0, 3 * (spikes + 1)).Where(_ => rng.Next(3) == 0).Take(spikes).ToArray();
        var count = inputs.Length;
        var times = inputs.Select(_ => rng.Next(steps)).ToArray();
        var gk = Enumerable.Range(0, steps * stride).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
        var rows = (inputs.Length == 0 ? 1 : inputs[^1] + 1) * stride;
        var end = count == 0 ? 0 : inputs[count / 2] + 1;
        var dW = new float[rows];
        var expected = new float[rows];
        var stop = 0;
        while (stop < count && inputs[stop] < end)
        {
            for (var o = 0; o < stride; o++)
            {
                expected[(inputs[stop] * stride) + o] += gk[(times[stop] * stride) + o];
            }

            stop++;
        }

        var list = inputs.Append(0).ToArray();
        var next = Scatter.RowsByTime(P(path), new TwoLists(list.AsSpan(0, count), times.Append(0).ToArray()), 0, end, ref dW[0], 0, ref gk[0], stride);

        Assert.That(next, Is.EqualTo(stop));
        Assert.That(dW, Is.EqualTo(expected));

        // The same rows held from the first listed input on (a phase-2 block of scratch), for the whole row and by tile.
        var firstRow = count == 0 ? 0 : inputs[0];
        var block = new float[rows - (firstRow * stride) + 1];
        next = Scatter.RowsByTime(P(path), new TwoLists(list.AsSpan(0, count), times.Append(0).ToArray()), 0, end, ref block[0], firstRow, ref gk[0], stride);
        Assert.That(next, Is.EqualTo(stop));
        Assert.That(block[..^1], Is.EqualTo(expected[(firstRow * stride)..]));
        if (stride % RowOps.TileWidth == 0)
        {
            var tiles = new float[block.Length];
            for (var column = 0; column < stride; column += RowOps.TileWidth)
            {
                next = Scatter.RowsByTimeOfTile(P(path), new TwoLists(list.AsSpan(0, count), times.Append(0).ToArray()), 0, end, ref tiles[column], firstRow, ref gk[column], stride);
                Assert.That(next, Is.EqualTo(stop));
            }

            Assert.That(tiles, Is.EqualTo(block));
        }
    }

    [Test]
    public void RowsByTimeOfTile_OverEveryTile_IsRowsByTimeBitForBit(
        [ValueSource(nameof(Paths))] string path, [Values(0, 1, 7, 64)] int spikes, [Values(32, 48, 112)] int stride)
    {
        // Some tiles of gk are zero, some -0, the rest random; dW starts at +0 as a phase-2 block does. Adding the live
        // tiles one by one gives the bits of the full-row add, and adding none of the dead tiles changes nothing.
        const int steps = 30;
        var tiles = stride / RowOps.TileWidth;
        var rng = new Random((spikes * 31) + stride);
        var inputs = Enumerable.Range(0, 3 * (spikes + 1)).Where(_ => rng.Next(3) == 0).Take(spikes).ToArray();
        var count = inputs.Length;
        var times = inputs.Select(_ => rng.Next(steps)).Append(0).ToArray();
        var list = inputs.Append(0).ToArray();
        var gk = new float[steps * stride];
        var live = 0;
        for (var tile = 0; tile < tiles; tile++)
        {
            var kind = rng.Next(3); // 0: +0, 1: -0, 2: random
            live |= kind == 2 ? 1 << tile : 0;
            for (var t = 0; t < steps; t++)
            {
                for (var j = 0; j < RowOps.TileWidth; j++)
                {
                    gk[(t * stride) + (tile * RowOps.TileWidth) + j] = kind == 0 ? 0f : kind == 1 ? -0f : (float)((rng.NextDouble() * 2) - 1);
                }
            }
        }

        var rows = (count == 0 ? 1 : inputs[^1] + 1) * stride;
        var end = count == 0 ? 0 : inputs[Math.Max(0, count - 2)] + 1;
        var full = new float[rows];
        var byTile = new float[rows];

        var expectedNext = Scatter.RowsByTime(P(path), new TwoLists(list.AsSpan(0, count), times), 0, end, ref full[0], 0, ref gk[0], stride);
        for (var tile = 0; tile < tiles; tile++)
        {
            if ((live & (1 << tile)) != 0)
            {
                var column = tile * RowOps.TileWidth;
                var next = Scatter.RowsByTimeOfTile(P(path), new TwoLists(list.AsSpan(0, count), times), 0, end, ref byTile[column], 0, ref gk[column], stride);
                Assert.That(next, Is.EqualTo(expectedNext));
            }
        }

        Assert.That(byTile.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(full.Select(BitConverter.SingleToInt32Bits)));
        Assert.That(RowOps.LiveTiles(P(path), gk, steps, stride), Is.EqualTo(live));
    }

    [Test]
    public void LiveTiles_MarksTheTilesWithANonZeroInTheLeadingRows([ValueSource(nameof(Paths))] string path, [Values(16, 32, 112, 496)] int stride, [Values(1, 5, 40)] int rows)
    {
        var rng = new Random(stride + rows);
        var tiles = stride / RowOps.TileWidth;
        var g = new float[(rows + 2) * stride];
        Array.Fill(g, -0f);
        var expected = 0;
        for (var tile = 0; tile < tiles; tile++)
        {
            switch (rng.Next(3))
            {
                case 0: // a value in the leading rows, anywhere in the tile
                    g[(rng.Next(rows) * stride) + (tile * RowOps.TileWidth) + rng.Next(RowOps.TileWidth)] = rng.Next(2) == 0 ? 1e-45f : -2.5f;
                    expected |= 1 << tile;
                    break;
                case 1: // only below the leading rows: not live
                    g[((rows + 1) * stride) + (tile * RowOps.TileWidth)] = 3f;
                    break;
            }
        }

        Assert.That(RowOps.LiveTiles(P(path), g, rows, stride), Is.EqualTo(expected));
    }

    [Test]
    public void RowOps_AddScaledDotAndLastNonZeroRow_MatchPlainLoops([ValueSource(nameof(Paths))] string path, [Values(8, 16, 24, 64)] int length)
    {
        var rng = new Random(length);
        var vector = RowOps.UseVector(P(path), length);
        var a = Enumerable.Range(0, length).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
        var b = Enumerable.Range(0, length).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
        var d = (float[])a.Clone();
        RowOps.AddScaled(vector, d, b, 0.37f);
        Assert.That(d, Is.EqualTo(a.Zip(b, (x, y) => x + (0.37f * y)).ToArray()));
        var dot = RowOps.Dot(vector, a, b);
        Assert.That(dot, Is.EqualTo(a.Zip(b, (x, y) => (double)x * y).Sum()).Within(1e-5 * length));

        var g = new float[length * 5];
        Assert.That(RowOps.RowsUpToLastNonZero(vector, g, length), Is.Zero);
        g[(2 * length) + rng.Next(length)] = -1e-30f;
        g[(3 * length) + rng.Next(length)] = -0f; // counts as zero
        Assert.That(RowOps.RowsUpToLastNonZero(vector, g, length), Is.EqualTo(3));
    }

    [Test]
    public void FromEvents_IsCollectOfTheDenseRow([ValueSource(nameof(Paths))] string path, [ValueSource(nameof(Lengths))] int inputs, [Values] bool integerOnly)
    {
        var rng = new Random(inputs + (integerOnly ? 1 : 0));
        const int window = 20;
        for (var trial = 0; trial < 10; trial++)
        {
            // Afferent-ordered events with times in and out of the window, some not float32-exact.
            var afferents = Enumerable.Range(0, inputs).Where(_ => rng.Next(3) != 0).ToArray();
            var times = afferents.Select(_ => integerOnly ? rng.Next(window + 5) : (rng.NextDouble() * (window + 5)) + (rng.Next(4) == 0 ? 1e-9 : 0)).ToArray();
            var row = Enumerable.Repeat(-1f, inputs).ToArray();
            for (var k = 0; k < afferents.Length; k++)
            {
                row[afferents[k]] = (float)times[k];
            }

            var expectedIndices = new int[inputs + SpikeLists.IndexSlack];
            var expectedTimes = new int[expectedIndices.Length];
            var expected = SpikeLists.Collect(KernelPath.Scalar, row, window, expectedIndices, expectedTimes, out var expectedInteger);
            var indices = new int[inputs + SpikeLists.IndexSlack];
            var outTimes = new int[indices.Length];
            var count = SpikeLists.FromEvents(P(path), afferents, times, window, indices, outTimes, out var integer);
            Assert.That(count, Is.EqualTo(expected));
            Assert.That(indices[..count], Is.EqualTo(expectedIndices[..count]));
            Assert.That(outTimes[..count], Is.EqualTo(expectedTimes[..count]));
            Assert.That(integer, Is.EqualTo(expectedInteger));
        }
    }

    [Test]
    public void LayoutTranspose_ToPublicWithLiveOutputs_ClearsTheDeadRowsAndCopiesTheRest(
        [ValueSource(nameof(Paths))] string path, [Values(9, 300, 531)] int ins, [Values(3, 17, 100)] int outs, [Values(0, 1, 2)] int pattern)
    {
        // Dead outputs (marked 0) are +0 in the source; the public runs of [first, end) must come out as the plain copy's,
        // over a destination full of garbage, whatever the mix of live and dead outputs in each group of eight.
        var stride = RowOps.OutStride(outs);
        var rng = new Random((ins * 7) + outs + pattern);
        var live = Enumerable.Range(0, outs).Select(o => pattern switch { 0 => o % 3 == 0 ? 1 : 0, 1 => o < 8 || rng.Next(4) == 0 ? 1 : 0, _ => 1 }).ToArray();
        var first = Math.Min(ins - 1, 5);
        var end = ins;
        var block = new float[(end - first) * stride];
        for (var i = first; i < end; i++)
        {
            for (var o = 0; o < outs; o++)
            {
                block[((i - first) * stride) + o] = live[o] == 1 ? (float)((rng.NextDouble() * 2) - 1) : 0f;
            }
        }

        var expected = Enumerable.Repeat(float.NaN, ins * outs).ToArray();
        LayoutTranspose.ToPublic(P(path), block, expected, ins, outs, stride, first, end, internalFirst: first);
        var actual = Enumerable.Repeat(float.NaN, ins * outs).ToArray();
        LayoutTranspose.ToPublic(P(path), block, actual, ins, outs, stride, first, end, internalFirst: first, liveOutputs: live);

        Assert.That(actual.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToInt32Bits)));
    }

    [Test]
    public void LayoutTranspose_CopiesEveryWeightBothWaysOverAnyInputRange(
        [ValueSource(nameof(Paths))] string path, [Values(1, 7, 8, 9, 17, 300, 531)] int ins, [Values(1, 3, 8, 10, 17, 100)] int outs)
    {
        var stride = RowOps.OutStride(outs);
        var rng = new Random((ins * 131) + outs);
        var publicLayout = Enumerable.Range(0, ins * outs).Select(_ => (float)rng.NextDouble()).ToArray();
        foreach (var (first, end) in new[] { (0, ins), (0, ins / 2 / LayoutTranspose.Block * LayoutTranspose.Block), (Math.Min(ins, LayoutTranspose.Block), ins) })
        {
            // Internal [ins, stride] with padding zero; only inputs [first, end) are written, the rest keep a marker.
            var internalLayout = Enumerable.Repeat(-7f, ins * stride).ToArray();
            for (var i = first; i < end; i++)
            {
                Array.Fill(internalLayout, 0f, (i * stride) + outs, stride - outs);
            }

            LayoutTranspose.ToInternal(P(path), publicLayout, internalLayout, ins, outs, stride, first, end);
            for (var i = 0; i < ins; i++)
            {
                for (var o = 0; o < stride; o++)
                {
                    var expected = i < first || i >= end ? -7f : o < outs ? publicLayout[(o * ins) + i] : 0f;
                    Assert.That(internalLayout[(i * stride) + o], Is.EqualTo(expected), $"internal ({i}, {o}), inputs [{first}, {end})");
                }
            }

            var back = Enumerable.Repeat(-7f, ins * outs).ToArray();
            LayoutTranspose.ToPublic(P(path), internalLayout, back, ins, outs, stride, first, end);
            for (var o = 0; o < outs; o++)
            {
                for (var i = 0; i < ins; i++)
                {
                    var expected = i < first || i >= end ? -7f : publicLayout[(o * ins) + i];
                    Assert.That(back[(o * ins) + i], Is.EqualTo(expected), $"public ({o}, {i}), inputs [{first}, {end})");
                }
            }

            // From a block holding only the internal rows of inputs [first, end) (phase 2's scratch): the same copy.
            var fromBlock = Enumerable.Repeat(-7f, ins * outs).ToArray();
            LayoutTranspose.ToPublic(P(path), internalLayout.AsSpan(first * stride, (end - first) * stride), fromBlock, ins, outs, stride, first, end, internalFirst: first);
            Assert.That(fromBlock, Is.EqualTo(back), $"from a block, inputs [{first}, {end})");
        }
    }
}
