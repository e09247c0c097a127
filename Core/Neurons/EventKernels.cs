using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TimingBased.Neurons;

/// <summary>
/// The event-driven building blocks of the Tempotron: collecting the spiking inputs of a sample, adding
/// weight rows into per-time accumulators, and the forward and reverse exponential recurrences over time.
/// All rows are <c>outStride</c> floats long (the output count rounded up to the vector width), so every
/// row operation is whole vectors, or a plain loop when vectors are not hardware-accelerated.
/// </summary>
internal static class EventKernels
{
    /// <summary>The row stride for <paramref name="outFeatures"/> outputs: a multiple of the vector width.</summary>
    public static int OutStride(int outFeatures)
    {
        if (!Vector.IsHardwareAccelerated)
        {
            return outFeatures;
        }

        var w = Vector<float>.Count;
        return (outFeatures + w - 1) / w * w;
    }

    /// <summary>How many ints past the input count the index buffer of <see cref="CollectSpikes"/> needs.</summary>
    public const int IndexSlack = 16;

    /// <summary>For each 8-bit mask, the positions of its set bits, then zeros: 256 rows of 8 ints.</summary>
    private static readonly int[] _compactionTable = BuildCompactionTable();

    private static int[] BuildCompactionTable()
    {
        var table = new int[256 * 8];
        for (var mask = 0; mask < 256; mask++)
        {
            var n = 0;
            for (var lane = 0; lane < 8; lane++)
            {
                if ((mask & (1 << lane)) != 0)
                {
                    table[(mask * 8) + n++] = lane;
                }
            }
        }

        return table;
    }

    /// <summary>
    /// Writes the indices <c>i</c> with <c>0 &lt;= row[i] &lt; window</c> (so <c>-0</c> counts, NaN does not) in
    /// increasing order. Returns their count, or <c>~i</c> (negative) for the first NaN at <c>i</c>.
    /// <paramref name="indices"/> must hold <c>row.Length + </c><see cref="IndexSlack"/> ints (whole vectors are stored).
    /// <paramref name="times"/> receives, at the same positions, each collected time truncated to an integer (its
    /// grid step <c>c</c> when the time is an integer) and must be as long as <paramref name="indices"/>.
    /// <paramref name="integerTimes"/> tells whether every collected time is an integer (the encoder's output is).
    /// </summary>
    public static int CollectSpikes(ReadOnlySpan<float> row, float window, Span<int> indices, Span<int> times, out bool integerTimes)
    {
        Debug.Assert(indices.Length >= row.Length + IndexSlack && times.Length >= indices.Length);
        var count = 0;
        var fractional = false;
        var i = 0;
        ref var r = ref MemoryMarshal.GetReference(row);
        ref var indexRef = ref MemoryMarshal.GetReference(indices);
        ref var timeRef = ref MemoryMarshal.GetReference(times);
        ref var table = ref MemoryMarshal.GetArrayDataReference(_compactionTable);
        if (Avx512F.IsSupported && row.Length >= Vector512<float>.Count)
        {
            // 16 inputs per step: vpcompressd packs the in-window lanes' positions and times to the front of a
            // register, stored whole (a third fewer instructions per input than the 8-lane table below; about 4 %
            // off a training step).
            var wv = Vector512.Create(window);
            var position = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            var step = Vector512.Create(Vector512<int>.Count);
            var fractionalLanes = Vector512<float>.Zero;
            for (; i <= row.Length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var v = Vector512.LoadUnsafe(ref r, (nuint)i);
                if (!Vector512.EqualsAll(v, v))
                {
                    integerTimes = false;
                    return ~(i + IndexOfNaN(row.Slice(i, Vector512<float>.Count)));
                }

                var inWindow = Vector512.GreaterThanOrEqual(v, Vector512<float>.Zero) & Vector512.LessThan(v, wv);
                var mask = inWindow.AsInt32();
                Avx512F.Compress(Vector512<int>.Zero, mask, position).StoreUnsafe(ref indexRef, (nuint)count);
                Avx512F.Compress(Vector512<int>.Zero, mask, Vector512.ConvertToInt32Native(v)).StoreUnsafe(ref timeRef, (nuint)count);
                count += BitOperations.PopCount(Vector512.ExtractMostSignificantBits(inWindow));
                position += step;
                fractionalLanes |= inWindow & ~Vector512.Equals(Vector512.Floor(v), v);
            }

            fractional = fractionalLanes != Vector512<float>.Zero;
        }
        else if (Vector256.IsHardwareAccelerated && row.Length >= Vector256<float>.Count)
        {
            var wv = Vector256.Create(window);
            var fractionalLanes = Vector256<float>.Zero;
            for (; i <= row.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref r, (nuint)i);
                if (!Vector256.EqualsAll(v, v))
                {
                    integerTimes = false;
                    return ~(i + IndexOfNaN(row.Slice(i, Vector256<float>.Count)));
                }

                var inWindow = Vector256.GreaterThanOrEqual(v, Vector256<float>.Zero) & Vector256.LessThan(v, wv);
                var bits = Vector256.ExtractMostSignificantBits(inWindow);
                // Branch-free compaction: the table row for this mask lists the set lanes first.
                var lanes = Vector256.LoadUnsafe(ref table, bits * 8);
                (Vector256.Create(i) + lanes).StoreUnsafe(ref indexRef, (nuint)count);
                Vector256.ShuffleNative(Vector256.ConvertToInt32Native(v), lanes).StoreUnsafe(ref timeRef, (nuint)count);
                count += BitOperations.PopCount(bits);
                fractionalLanes |= inWindow & ~Vector256.Equals(Vector256.Floor(v), v);
            }

            fractional = fractionalLanes != Vector256<float>.Zero;
        }
        else if (Vector128.IsHardwareAccelerated && row.Length >= Vector128<float>.Count)
        {
            var wv = Vector128.Create(window);
            var fractionalLanes = Vector128<float>.Zero;
            for (; i <= row.Length - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                var v = Vector128.LoadUnsafe(ref r, (nuint)i);
                if (!Vector128.EqualsAll(v, v))
                {
                    integerTimes = false;
                    return ~(i + IndexOfNaN(row.Slice(i, Vector128<float>.Count)));
                }

                var inWindow = Vector128.GreaterThanOrEqual(v, Vector128<float>.Zero) & Vector128.LessThan(v, wv);
                var bits = Vector128.ExtractMostSignificantBits(inWindow);
                var lanes = Vector128.LoadUnsafe(ref table, bits * 8);
                (Vector128.Create(i) + lanes).StoreUnsafe(ref indexRef, (nuint)count);
                Vector128.ShuffleNative(Vector128.ConvertToInt32Native(v), lanes).StoreUnsafe(ref timeRef, (nuint)count);
                count += BitOperations.PopCount(bits);
                fractionalLanes |= inWindow & ~Vector128.Equals(Vector128.Floor(v), v);
            }

            fractional = fractionalLanes != Vector128<float>.Zero;
        }

        for (; i < row.Length; i++)
        {
            var s = row[i];
            if (s >= 0f && s < window)
            {
                times[count] = (int)s;
                indices[count++] = i;
                fractional |= MathF.Floor(s) != s;
            }
            else if (float.IsNaN(s))
            {
                integerTimes = false;
                return ~i;
            }
        }

        integerTimes = !fractional;
        return count;
    }

    /// <summary>
    /// Keeps, in order and in place, those of the first <paramref name="count"/> entries of the paired lists whose
    /// time is below <paramref name="limit"/>; returns how many were kept.
    /// </summary>
    public static int KeepEarlierThan(Span<int> indices, Span<int> times, int count, int limit)
    {
        Debug.Assert(indices.Length >= count && times.Length >= count);
        ref var indexRef = ref MemoryMarshal.GetReference(indices);
        ref var timeRef = ref MemoryMarshal.GetReference(times);
        ref var table = ref MemoryMarshal.GetArrayDataReference(_compactionTable);
        var kept = 0;
        var k = 0;
        if (Avx512F.IsSupported)
        {
            var limit512 = Vector512.Create(limit);
            for (; k <= count - Vector512<int>.Count; k += Vector512<int>.Count)
            {
                var t = Vector512.LoadUnsafe(ref timeRef, (nuint)k);
                var keep = Vector512.LessThan(t, limit512);
                Avx512F.Compress(Vector512<int>.Zero, keep, Vector512.LoadUnsafe(ref indexRef, (nuint)k)).StoreUnsafe(ref indexRef, (nuint)kept);
                Avx512F.Compress(Vector512<int>.Zero, keep, t).StoreUnsafe(ref timeRef, (nuint)kept);
                kept += BitOperations.PopCount(Vector512.ExtractMostSignificantBits(keep));
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            // The compaction of CollectSpikes again: a lane is kept when its time is below the limit. A store covers
            // kept .. kept + width - 1 with kept <= k: it never reaches an entry not yet loaded, nor past count.
            var limitV = Vector256.Create(limit);
            for (; k <= count - Vector256<int>.Count; k += Vector256<int>.Count)
            {
                var t = Vector256.LoadUnsafe(ref timeRef, (nuint)k);
                var i = Vector256.LoadUnsafe(ref indexRef, (nuint)k);
                var bits = Vector256.ExtractMostSignificantBits(Vector256.LessThan(t, limitV));
                var lanes = Vector256.LoadUnsafe(ref table, bits * 8);
                Vector256.ShuffleNative(t, lanes).StoreUnsafe(ref timeRef, (nuint)kept);
                Vector256.ShuffleNative(i, lanes).StoreUnsafe(ref indexRef, (nuint)kept);
                kept += BitOperations.PopCount(bits);
            }
        }

        for (; k < count; k++)
        {
            var t = Unsafe.Add(ref timeRef, k);
            if (t < limit)
            {
                Unsafe.Add(ref timeRef, kept) = t;
                Unsafe.Add(ref indexRef, kept) = Unsafe.Add(ref indexRef, k);
                kept++;
            }
        }

        return kept;
    }

    private static int IndexOfNaN(ReadOnlySpan<float> values)
    {
        for (var k = 0; k < values.Length; k++)
        {
            if (float.IsNaN(values[k]))
            {
                return k;
            }
        }

        return -1;
    }

    /// <summary>
    /// Phase 2 of the backward for integer times: <c>dW[indices[k]] += gk[times[k]]</c> (rows of
    /// <paramref name="outStride"/> floats) for <c>k = from, from + 1, ...</c> while <c>k &lt;= last</c> and
    /// <c>indices[k] &lt; end</c>; returns the first <c>k</c> not processed. The <c>dW</c> rows of one call are
    /// distinct, so nothing reads a row back right after its store and 16-float rows go as one 512-bit
    /// load-add-store where available (about 8 % faster per training step than two 256-bit ones; in the forward
    /// scatter, where a row is re-read a few spikes later, the 256-bit form is faster).
    /// </summary>
    public static int AddRowsByTime(ref float dW, ref float gk, ref int indices, ref int times, int from, int last, int end, int outStride)
    {
        var k = from;
        if (Vector512.IsHardwareAccelerated && outStride == Vector512<float>.Count)
        {
            // Native-width positions and zero-extended row offsets: no sign extensions in the loop.
            nint position = from;
            for (; position <= last; position++)
            {
                var i = Unsafe.Add(ref indices, position);
                if (i >= end)
                {
                    break;
                }

                ref var row = ref Unsafe.Add(ref dW, Row16(i));
                (Vector512.LoadUnsafe(ref row) + Vector512.LoadUnsafe(ref gk, Row16(Unsafe.Add(ref times, position)))).StoreUnsafe(ref row);
            }

            return (int)position;
        }

        for (; k <= last; k++)
        {
            var i = Unsafe.Add(ref indices, k);
            if (i >= end)
            {
                break;
            }

            Add(ref Unsafe.Add(ref dW, i * outStride), ref Unsafe.Add(ref gk, Unsafe.Add(ref times, k) * outStride), outStride);
        }

        return k;
    }

    /// <summary>The number of accumulator planes <see cref="ScatterRows"/> rotates over.</summary>
    public const int ScatterBanks = 4;

    /// <summary>
    /// The forward scatter for integer times: <c>bank[k % 4][times[k]] += W[indices[k]]</c> (rows of
    /// <paramref name="outStride"/> floats), except that the last <c>count % 4</c> spikes go to bank 0, with the
    /// <see cref="ScatterBanks"/> banks (each <paramref name="plane"/> floats) one after the other from
    /// <paramref name="banks"/>. Spikes rotate over the banks so consecutive spikes at the same time (common: most
    /// encoded pixels are background) do not wait on each other's store. Every bank receives its spikes' rows in
    /// list order whichever path runs, so the result does not depend on the hardware.
    /// </summary>
    public static void ScatterRows(ref float weights, ref float banks, int plane, ReadOnlySpan<int> indices, ReadOnlySpan<int> times, int outStride)
    {
        Debug.Assert(times.Length == indices.Length);
        if (Vector256.IsHardwareAccelerated && outStride == 2 * Vector256<float>.Count)
        {
            ScatterRows16(ref weights, ref banks, plane, indices, times); // 9 to 16 outputs
            return;
        }

        ref var bank1 = ref Unsafe.Add(ref banks, plane);
        ref var bank2 = ref Unsafe.Add(ref banks, 2 * plane);
        ref var bank3 = ref Unsafe.Add(ref banks, 3 * plane);
        ref var indexRef = ref MemoryMarshal.GetReference(indices);
        ref var timeRef = ref MemoryMarshal.GetReference(times);
        var count = indices.Length;
        var k = 0;
        for (; k <= count - ScatterBanks; k += ScatterBanks)
        {
            Add(ref Unsafe.Add(ref banks, Unsafe.Add(ref timeRef, k) * outStride), ref Unsafe.Add(ref weights, Unsafe.Add(ref indexRef, k) * outStride), outStride);
            Add(ref Unsafe.Add(ref bank1, Unsafe.Add(ref timeRef, k + 1) * outStride), ref Unsafe.Add(ref weights, Unsafe.Add(ref indexRef, k + 1) * outStride), outStride);
            Add(ref Unsafe.Add(ref bank2, Unsafe.Add(ref timeRef, k + 2) * outStride), ref Unsafe.Add(ref weights, Unsafe.Add(ref indexRef, k + 2) * outStride), outStride);
            Add(ref Unsafe.Add(ref bank3, Unsafe.Add(ref timeRef, k + 3) * outStride), ref Unsafe.Add(ref weights, Unsafe.Add(ref indexRef, k + 3) * outStride), outStride);
        }

        for (; k < count; k++)
        {
            Add(ref Unsafe.Add(ref banks, Unsafe.Add(ref timeRef, k) * outStride), ref Unsafe.Add(ref weights, Unsafe.Add(ref indexRef, k) * outStride), outStride);
        }
    }

    /// <summary>
    /// <see cref="ScatterRows"/> for 16-float rows on 256-bit hardware. The loop is limited by throughput and by the
    /// weight rows' loads, so it is written for the fewest instructions per spike: constant row shifts,
    /// zero-extended offsets and two 256-bit adds per row (a 512-bit store read back a few spikes later forwards
    /// badly on the machines measured).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // its own register allocation: inlined, the loop reloads spilled list pointers
    private static void ScatterRows16(ref float weights, ref float banks, int plane, ReadOnlySpan<int> indices, ReadOnlySpan<int> times)
    {
        ref var bank1 = ref Unsafe.Add(ref banks, plane);
        ref var bank2 = ref Unsafe.Add(ref banks, 2 * plane);
        ref var bank3 = ref Unsafe.Add(ref banks, 3 * plane);
        ref var indexRef = ref MemoryMarshal.GetReference(indices);
        ref var timeRef = ref MemoryMarshal.GetReference(times);
        var count = (nuint)indices.Length;
        nuint k = 0;
        for (; k + ScatterBanks <= count; k += ScatterBanks)
        {
            AddRow16(ref Unsafe.Add(ref banks, Row16(Unsafe.Add(ref timeRef, k))), ref Unsafe.Add(ref weights, Row16(Unsafe.Add(ref indexRef, k))));
            AddRow16(ref Unsafe.Add(ref bank1, Row16(Unsafe.Add(ref timeRef, k + 1))), ref Unsafe.Add(ref weights, Row16(Unsafe.Add(ref indexRef, k + 1))));
            AddRow16(ref Unsafe.Add(ref bank2, Row16(Unsafe.Add(ref timeRef, k + 2))), ref Unsafe.Add(ref weights, Row16(Unsafe.Add(ref indexRef, k + 2))));
            AddRow16(ref Unsafe.Add(ref bank3, Row16(Unsafe.Add(ref timeRef, k + 3))), ref Unsafe.Add(ref weights, Row16(Unsafe.Add(ref indexRef, k + 3))));
        }

        for (; k < count; k++)
        {
            AddRow16(ref Unsafe.Add(ref banks, Row16(Unsafe.Add(ref timeRef, k))), ref Unsafe.Add(ref weights, Row16(Unsafe.Add(ref indexRef, k))));
        }
    }

    /// <summary>The offset of row <paramref name="row"/> (non-negative) in a 16-float-row matrix, zero-extended.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint Row16(int row) => (nuint)(uint)row << 4;

    /// <summary><c>destination[k] += source[k]</c> for 16 floats, as two 256-bit adds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow16(ref float destination, ref float source)
    {
        (Vector256.LoadUnsafe(ref destination) + Vector256.LoadUnsafe(ref source)).StoreUnsafe(ref destination);
        (Vector256.LoadUnsafe(ref destination, 8) + Vector256.LoadUnsafe(ref source, 8)).StoreUnsafe(ref destination, 8);
    }

    /// <summary>
    /// <c>destination[k] += source[k]</c> for <c>k &lt; length</c>, over references, in <see cref="Vector{T}"/>
    /// steps (256-bit on x64): the forward scatter's inner loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add(ref float destination, ref float source, int length)
    {
        if (Vector.IsHardwareAccelerated && length == 2 * Vector<float>.Count)
        {
            // The common row (9 to 16 outputs on AVX2): two vectors, no loop.
            (Vector.LoadUnsafe(ref destination) + Vector.LoadUnsafe(ref source)).StoreUnsafe(ref destination);
            var half = (nuint)Vector<float>.Count;
            (Vector.LoadUnsafe(ref destination, half) + Vector.LoadUnsafe(ref source, half)).StoreUnsafe(ref destination, half);
            return;
        }

        if (Vector.IsHardwareAccelerated)
        {
            for (nuint k = 0; k < (nuint)length; k += (nuint)Vector<float>.Count)
            {
                (Vector.LoadUnsafe(ref destination, k) + Vector.LoadUnsafe(ref source, k)).StoreUnsafe(ref destination, k);
            }
        }
        else
        {
            for (var k = 0; k < length; k++)
            {
                Unsafe.Add(ref destination, k) += Unsafe.Add(ref source, k);
            }
        }
    }

    /// <summary><c>destination[k] += scale * source[k]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddScaled(Span<float> destination, ReadOnlySpan<float> source, float scale)
    {
        if (Vector.IsHardwareAccelerated)
        {
            ref var d = ref MemoryMarshal.GetReference(destination);
            ref var s = ref MemoryMarshal.GetReference(source);
            var sv = new Vector<float>(scale);
            for (nuint k = 0; k < (nuint)destination.Length; k += (nuint)Vector<float>.Count)
            {
                (Vector.LoadUnsafe(ref d, k) + (sv * Vector.LoadUnsafe(ref s, k))).StoreUnsafe(ref d, k);
            }
        }
        else
        {
            for (var k = 0; k < destination.Length; k++)
            {
                destination[k] += scale * source[k];
            }
        }
    }

    /// <summary><c>destination[k] += sa * a[k] - sb * b[k]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddCombination(Span<float> destination, ReadOnlySpan<float> a, float sa, ReadOnlySpan<float> b, float sb)
    {
        for (var k = 0; k < destination.Length; k++)
        {
            destination[k] += (sa * a[k]) - (sb * b[k]);
        }
    }

    /// <summary>Returns <c>sum_k a[k] b[k]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (Vector.IsHardwareAccelerated)
        {
            ref var ra = ref MemoryMarshal.GetReference(a);
            ref var rb = ref MemoryMarshal.GetReference(b);
            var acc = Vector<float>.Zero;
            for (nuint k = 0; k < (nuint)a.Length; k += (nuint)Vector<float>.Count)
            {
                acc += Vector.LoadUnsafe(ref ra, k) * Vector.LoadUnsafe(ref rb, k);
            }

            return Vector.Sum(acc);
        }

        var sum = 0f;
        for (var k = 0; k < a.Length; k++)
        {
            sum += a[k] * b[k];
        }

        return sum;
    }

    /// <summary>Returns 1 + the index of the last row of <paramref name="g"/> (<c>[T, outStride]</c>) with a non-zero element, or 0 if all are zero.</summary>
    /// <remarks><c>-0</c> counts as zero; NaN does not (it must reach the gradient check).</remarks>
    public static int RowsUpToLastNonZero(ReadOnlySpan<float> g, int outStride)
    {
        ref var rg = ref MemoryMarshal.GetReference(g);
        for (var t = (g.Length / outStride) - 1; t >= 0; t--)
        {
            var row = (nuint)(t * outStride);
            if (Vector.IsHardwareAccelerated)
            {
                for (nuint j = 0; j < (nuint)outStride; j += (nuint)Vector<float>.Count)
                {
                    if (!Vector.EqualsAll(Vector.LoadUnsafe(ref rg, row + j), Vector<float>.Zero))
                    {
                        return t + 1;
                    }
                }

                continue;
            }

            for (var o = 0; o < outStride; o++)
            {
                if (g[(int)row + o] != 0f)
                {
                    return t + 1;
                }
            }
        }

        return 0;
    }

    /// <summary>
    /// For every column <c>o &lt; outStride</c> of <paramref name="v"/> (<c>[T, outStride]</c>): the maximum over
    /// <c>t</c> and its first index, as <c>torch.max</c>/<c>torch.argmax</c> give them for finite values.
    /// </summary>
    public static void MaxAndArgMax(ReadOnlySpan<float> v, int outStride, Span<float> max, Span<int> argMax)
    {
        var steps = v.Length / outStride;
        if (Vector.IsHardwareAccelerated)
        {
            ref var rv = ref MemoryMarshal.GetReference(v);
            for (nuint j = 0; j < (nuint)outStride; j += (nuint)Vector<float>.Count)
            {
                var best = Vector.LoadUnsafe(ref rv, j);
                var arg = Vector<int>.Zero;
                for (var t = 1; t < steps; t++)
                {
                    var x = Vector.LoadUnsafe(ref rv, ((nuint)t * (nuint)outStride) + j);
                    var greater = Vector.GreaterThan(x, best); // strict: ties keep the first index
                    best = Vector.ConditionalSelect(greater, x, best);
                    arg = Vector.ConditionalSelect(greater, new Vector<int>(t), arg);
                }

                best.StoreUnsafe(ref MemoryMarshal.GetReference(max), j);
                arg.StoreUnsafe(ref MemoryMarshal.GetReference(argMax), j);
            }

            return;
        }

        for (var o = 0; o < outStride; o++)
        {
            var best = v[o];
            var arg = 0;
            for (var t = 1; t < steps; t++)
            {
                var x = v[(t * outStride) + o];
                if (x > best)
                {
                    best = x;
                    arg = t;
                }
            }

            max[o] = best;
            argMax[o] = arg;
        }
    }

    /// <summary>
    /// <see cref="Integrate"/> over the sum of <paramref name="bankCount"/> accumulator planes stored one after the
    /// other in <paramref name="banks"/>: <c>a[t] = ((bank0[t] + bank1[t]) + bank2[t]) + ...</c> in float, in that
    /// order, so the result is bit-identical to adding the banks into the first one and integrating that. For
    /// 16-float rows on 256-bit hardware the sum is formed per row and the recurrence's state stays in registers
    /// (one pass, no state round trip through memory); otherwise the banks are added into the first one (which
    /// is overwritten) and <see cref="Integrate"/> runs.
    /// </summary>
    public static void IntegrateBanks(
        Span<float> banks, int bankCount, ReadOnlySpan<float> delta, int outStride, double decayA, double decayB, double v0,
        Span<double> state, Span<float> v)
    {
        var plane = v.Length;
        Debug.Assert(banks.Length == bankCount * plane && bankCount == 4);
        if (Vector256.IsHardwareAccelerated && outStride == 2 * Vector256<float>.Count && bankCount == 4)
        {
            IntegrateFourBanks16(banks, delta, plane, decayA, decayB, v0, v);
            return;
        }

        ref var first = ref MemoryMarshal.GetReference(banks);
        for (var bank = 1; bank < bankCount; bank++)
        {
            Add(ref first, ref Unsafe.Add(ref first, bank * plane), plane);
        }

        Integrate(banks[..plane], delta, outStride, decayA, decayB, v0, state, v);
    }

    private static void IntegrateFourBanks16(
        ReadOnlySpan<float> banks, ReadOnlySpan<float> delta, int plane, double decayA, double decayB, double v0, Span<float> v)
    {
        ref var b0 = ref MemoryMarshal.GetReference(banks);
        ref var b1 = ref Unsafe.Add(ref b0, plane);
        ref var b2 = ref Unsafe.Add(ref b0, 2 * plane);
        ref var b3 = ref Unsafe.Add(ref b0, 3 * plane);
        ref var rd = ref MemoryMarshal.GetReference(delta);
        ref var rv = ref MemoryMarshal.GetReference(v);
        var hasDelta = !delta.IsEmpty;
        var da = Vector256.Create(decayA);
        var db = Vector256.Create(decayB);
        var scale = Vector256.Create(v0);
        Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<double> s0 = default, s1 = default, s2 = default, s3 = default;
        const int half = 8; // floats per 256-bit vector: a row is two of them
        for (nuint row = 0; row < (nuint)plane; row += 2 * half)
        {
            var lo = ((Vector256.LoadUnsafe(ref b0, row) + Vector256.LoadUnsafe(ref b1, row)) + Vector256.LoadUnsafe(ref b2, row))
                + Vector256.LoadUnsafe(ref b3, row);
            var hi = ((Vector256.LoadUnsafe(ref b0, row + half) + Vector256.LoadUnsafe(ref b1, row + half))
                + Vector256.LoadUnsafe(ref b2, row + half)) + Vector256.LoadUnsafe(ref b3, row + half);
            var (x0, x1) = Vector256.Widen(lo);
            var (x2, x3) = Vector256.Widen(hi);
            var (y0, y1, y2, y3) = (x0, x1, x2, x3);
            if (hasDelta)
            {
                var (d0, d1) = Vector256.Widen(Vector256.LoadUnsafe(ref rd, row));
                var (d2, d3) = Vector256.Widen(Vector256.LoadUnsafe(ref rd, row + half));
                (y0, y1, y2, y3) = (x0 + d0, x1 + d1, x2 + d2, x3 + d3);
            }

            a0 = (a0 * da) + x0;
            a1 = (a1 * da) + x1;
            a2 = (a2 * da) + x2;
            a3 = (a3 * da) + x3;
            s0 = (s0 * db) + y0;
            s1 = (s1 * db) + y1;
            s2 = (s2 * db) + y2;
            s3 = (s3 * db) + y3;
            Vector256.Narrow(scale * (a0 - s0), scale * (a1 - s1)).StoreUnsafe(ref rv, row);
            Vector256.Narrow(scale * (a2 - s2), scale * (a3 - s3)).StoreUnsafe(ref rv, row + half);
        }
    }

    /// <summary>
    /// The forward recurrence over time, in double precision:
    /// <c>A = A decayA + a[t]</c>, <c>B = B decayB + a[t] + delta[t]</c>, <c>v[t] = v0 (A - B)</c>, row by row.
    /// </summary>
    /// <param name="a">Per-time sums of <c>w exp(-d/tau)</c>, shape <c>[T, outStride]</c>.</param>
    /// <param name="delta">Per-time sums of <c>w (exp(-d/tauS) - exp(-d/tau))</c>, same shape, or empty when all zero.</param>
    /// <param name="outStride">The row length.</param>
    /// <param name="decayA">The per-step decay <c>exp(-1/tau)</c>.</param>
    /// <param name="decayB">The per-step decay <c>exp(-1/tauS)</c>.</param>
    /// <param name="v0">The PSP normalisation.</param>
    /// <param name="state">Scratch of length <c>2 outStride</c>.</param>
    /// <param name="v">Receives the voltages, shape <c>[T, outStride]</c>.</param>
    public static void Integrate(
        ReadOnlySpan<float> a, ReadOnlySpan<float> delta, int outStride, double decayA, double decayB, double v0,
        Span<double> state, Span<float> v)
    {
        state.Clear();
        var steps = a.Length / outStride;
        var hasDelta = !delta.IsEmpty;
        if (Vector.IsHardwareAccelerated)
        {
            IntegrateVector(a, delta, outStride, decayA, decayB, v0, state, v, steps, hasDelta);
            return;
        }

        var stateA = state[..outStride];
        var stateB = state.Slice(outStride, outStride);
        for (var t = 0; t < steps; t++)
        {
            var at = a.Slice(t * outStride, outStride);
            var vt = v.Slice(t * outStride, outStride);
            var dt = hasDelta ? delta.Slice(t * outStride, outStride) : default;
            for (var o = 0; o < outStride; o++)
            {
                double inA = at[o];
                var sa = (stateA[o] * decayA) + inA;
                var sb = (stateB[o] * decayB) + (inA + (hasDelta ? dt[o] : 0.0));
                stateA[o] = sa;
                stateB[o] = sb;
                vt[o] = (float)(v0 * (sa - sb));
            }
        }
    }

    private static void IntegrateVector(
        ReadOnlySpan<float> a, ReadOnlySpan<float> delta, int outStride, double decayA, double decayB, double v0,
        Span<double> state, Span<float> v, int steps, bool hasDelta)
    {
        ref var ra = ref MemoryMarshal.GetReference(a);
        ref var rd = ref MemoryMarshal.GetReference(delta);
        ref var rv = ref MemoryMarshal.GetReference(v);
        ref var rsA = ref MemoryMarshal.GetReference(state);
        ref var rsB = ref Unsafe.Add(ref rsA, outStride);
        var da = new Vector<double>(decayA);
        var db = new Vector<double>(decayB);
        var scale = new Vector<double>(v0);
        var half = (nuint)Vector<double>.Count;
        for (var t = 0; t < steps; t++)
        {
            var row = (nuint)(t * outStride);
            for (nuint j = 0; j < (nuint)outStride; j += (nuint)Vector<float>.Count)
            {
                Vector.Widen(Vector.LoadUnsafe(ref ra, row + j), out Vector<double> inLo, out Vector<double> inHi);
                var bLo = inLo;
                var bHi = inHi;
                if (hasDelta)
                {
                    Vector.Widen(Vector.LoadUnsafe(ref rd, row + j), out Vector<double> dLo, out Vector<double> dHi);
                    bLo += dLo;
                    bHi += dHi;
                }

                var saLo = (Vector.LoadUnsafe(ref rsA, j) * da) + inLo;
                var saHi = (Vector.LoadUnsafe(ref rsA, j + half) * da) + inHi;
                var sbLo = (Vector.LoadUnsafe(ref rsB, j) * db) + bLo;
                var sbHi = (Vector.LoadUnsafe(ref rsB, j + half) * db) + bHi;
                saLo.StoreUnsafe(ref rsA, j);
                saHi.StoreUnsafe(ref rsA, j + half);
                sbLo.StoreUnsafe(ref rsB, j);
                sbHi.StoreUnsafe(ref rsB, j + half);
                Vector.Narrow(scale * (saLo - sbLo), scale * (saHi - sbHi)).StoreUnsafe(ref rv, row + j);
            }
        }
    }

    /// <summary>
    /// The reverse recurrence over time, in double precision:
    /// <c>GA[t] = g[t] + decayA GA[t+1]</c>, <c>GB[t] = g[t] + decayB GB[t+1]</c>. Writes, each of shape
    /// <c>[T, outStride]</c>: <c>ga = v0 GA</c>, <c>gb = v0 GB</c>, <c>gk = v0 (GA - GB)</c> and
    /// <c>gs = v0 (GA / tau - GB / tauS)</c> (the last two are what an integer-time input needs). When
    /// <paramref name="ga"/> is empty only <paramref name="gk"/> is written (integer times, no input gradient).
    /// Rows of <paramref name="g"/> from <paramref name="rows"/> on must be zero (a loss gradient is non-zero only
    /// up to the latest arg-max): the recurrence starts there and the outputs' later rows are simply cleared.
    /// </summary>
    public static void IntegrateBackward(
        ReadOnlySpan<float> g, int rows, int outStride, double decayA, double decayB, double v0, double tau, double tauS,
        Span<double> state, Span<float> ga, Span<float> gb, Span<float> gk, Span<float> gs)
    {
        state.Clear();
        var all = !ga.IsEmpty;
        var tail = rows * outStride;
        gk[tail..].Clear();
        if (all)
        {
            ga[tail..].Clear();
            gb[tail..].Clear();
            gs[tail..].Clear();
        }

        if (Vector256.IsHardwareAccelerated && outStride == 2 * Vector256<float>.Count)
        {
            IntegrateBackward16(g, decayA, decayB, v0, tau, tauS, ga, gb, gk, gs, rows, all);
            return;
        }

        if (Vector.IsHardwareAccelerated)
        {
            IntegrateBackwardVector(g, outStride, decayA, decayB, v0, tau, tauS, state, ga, gb, gk, gs, rows, all);
            return;
        }

        var stateA = state[..outStride];
        var stateB = state.Slice(outStride, outStride);
        for (var t = rows - 1; t >= 0; t--)
        {
            var row = t * outStride;
            for (var o = 0; o < outStride; o++)
            {
                double x = g[row + o];
                var sa = (stateA[o] * decayA) + x;
                var sb = (stateB[o] * decayB) + x;
                stateA[o] = sa;
                stateB[o] = sb;
                gk[row + o] = (float)(v0 * (sa - sb));
                if (all)
                {
                    ga[row + o] = (float)(v0 * sa);
                    gb[row + o] = (float)(v0 * sb);
                    gs[row + o] = (float)(v0 * ((sa * (1.0 / tau)) - (sb * (1.0 / tauS))));
                }
            }
        }
    }

    /// <summary>The reverse recurrence for 16-float rows with its state in registers; the same operations as <see cref="IntegrateBackwardVector"/>.</summary>
    private static void IntegrateBackward16(
        ReadOnlySpan<float> g, double decayA, double decayB, double v0, double tau, double tauS,
        Span<float> ga, Span<float> gb, Span<float> gk, Span<float> gs, int steps, bool all)
    {
        ref var rg = ref MemoryMarshal.GetReference(g);
        ref var rga = ref MemoryMarshal.GetReference(ga);
        ref var rgb = ref MemoryMarshal.GetReference(gb);
        ref var rgk = ref MemoryMarshal.GetReference(gk);
        ref var rgs = ref MemoryMarshal.GetReference(gs);
        var da = Vector256.Create(decayA);
        var db = Vector256.Create(decayB);
        var scale = Vector256.Create(v0);
        var invTau = Vector256.Create(1.0 / tau);
        var invTauS = Vector256.Create(1.0 / tauS);
        Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<double> s0 = default, s1 = default, s2 = default, s3 = default;
        const int half = 8; // floats per 256-bit vector: a row is two of them
        for (var t = steps - 1; t >= 0; t--)
        {
            var row = (nuint)(t * 2 * half);
            var (x0, x1) = Vector256.Widen(Vector256.LoadUnsafe(ref rg, row));
            var (x2, x3) = Vector256.Widen(Vector256.LoadUnsafe(ref rg, row + half));
            a0 = (a0 * da) + x0;
            a1 = (a1 * da) + x1;
            a2 = (a2 * da) + x2;
            a3 = (a3 * da) + x3;
            s0 = (s0 * db) + x0;
            s1 = (s1 * db) + x1;
            s2 = (s2 * db) + x2;
            s3 = (s3 * db) + x3;
            Vector256.Narrow(scale * (a0 - s0), scale * (a1 - s1)).StoreUnsafe(ref rgk, row);
            Vector256.Narrow(scale * (a2 - s2), scale * (a3 - s3)).StoreUnsafe(ref rgk, row + half);
            if (all)
            {
                Vector256.Narrow(scale * a0, scale * a1).StoreUnsafe(ref rga, row);
                Vector256.Narrow(scale * a2, scale * a3).StoreUnsafe(ref rga, row + half);
                Vector256.Narrow(scale * s0, scale * s1).StoreUnsafe(ref rgb, row);
                Vector256.Narrow(scale * s2, scale * s3).StoreUnsafe(ref rgb, row + half);
                Vector256.Narrow(scale * ((a0 * invTau) - (s0 * invTauS)), scale * ((a1 * invTau) - (s1 * invTauS))).StoreUnsafe(ref rgs, row);
                Vector256.Narrow(scale * ((a2 * invTau) - (s2 * invTauS)), scale * ((a3 * invTau) - (s3 * invTauS))).StoreUnsafe(ref rgs, row + half);
            }
        }
    }

    private static void IntegrateBackwardVector(
        ReadOnlySpan<float> g, int outStride, double decayA, double decayB, double v0, double tau, double tauS,
        Span<double> state, Span<float> ga, Span<float> gb, Span<float> gk, Span<float> gs, int steps, bool all)
    {
        ref var rg = ref MemoryMarshal.GetReference(g);
        ref var rga = ref MemoryMarshal.GetReference(ga);
        ref var rgb = ref MemoryMarshal.GetReference(gb);
        ref var rgk = ref MemoryMarshal.GetReference(gk);
        ref var rgs = ref MemoryMarshal.GetReference(gs);
        ref var rsA = ref MemoryMarshal.GetReference(state);
        ref var rsB = ref Unsafe.Add(ref rsA, outStride);
        var da = new Vector<double>(decayA);
        var db = new Vector<double>(decayB);
        var scale = new Vector<double>(v0);
        var invTau = new Vector<double>(1.0 / tau);
        var invTauS = new Vector<double>(1.0 / tauS);
        var half = (nuint)Vector<double>.Count;
        for (var t = steps - 1; t >= 0; t--)
        {
            var row = (nuint)(t * outStride);
            for (nuint j = 0; j < (nuint)outStride; j += (nuint)Vector<float>.Count)
            {
                Vector.Widen(Vector.LoadUnsafe(ref rg, row + j), out Vector<double> xLo, out Vector<double> xHi);
                var saLo = (Vector.LoadUnsafe(ref rsA, j) * da) + xLo;
                var saHi = (Vector.LoadUnsafe(ref rsA, j + half) * da) + xHi;
                var sbLo = (Vector.LoadUnsafe(ref rsB, j) * db) + xLo;
                var sbHi = (Vector.LoadUnsafe(ref rsB, j + half) * db) + xHi;
                saLo.StoreUnsafe(ref rsA, j);
                saHi.StoreUnsafe(ref rsA, j + half);
                sbLo.StoreUnsafe(ref rsB, j);
                sbHi.StoreUnsafe(ref rsB, j + half);
                Vector.Narrow(scale * (saLo - sbLo), scale * (saHi - sbHi)).StoreUnsafe(ref rgk, row + j);
                if (all)
                {
                    Vector.Narrow(scale * saLo, scale * saHi).StoreUnsafe(ref rga, row + j);
                    Vector.Narrow(scale * sbLo, scale * sbHi).StoreUnsafe(ref rgb, row + j);
                    Vector.Narrow(
                        scale * ((saLo * invTau) - (sbLo * invTauS)),
                        scale * ((saHi * invTau) - (sbHi * invTauS))).StoreUnsafe(ref rgs, row + j);
                }
            }
        }
    }
}
