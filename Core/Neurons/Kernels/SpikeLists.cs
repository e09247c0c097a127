using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TimingBased.Neurons.Kernels;

/// <summary>
/// Spike lists: the indices (and integer times) of a sample's in-window inputs, collected from a dense row, and
/// their in-place filtering by time. The compaction writes whole vectors, so list buffers carry
/// <see cref="IndexSlack"/> extra ints.
/// </summary>
/// <remarks>
/// The <c>Vector256</c> and <c>Vector128</c> paths are the same loop at two widths. <c>ExtractMostSignificantBits</c>
/// and <c>ShuffleNative</c> are not on <see cref="Vector{T}"/>, and .NET 10 has no public interface over
/// <c>Vector128/256</c>, so writing the loop once would take an operator struct per width with a dozen one-line members
/// (load, window test, mask bits, table row, two stores, fraction test, ...): more code than the 20-line copy.
/// The AVX-512 scan is one loop for both list encodings (<see cref="ISpikeList"/> as a type argument): two lists take
/// two compressions per 16 inputs, a packed list one.
/// </remarks>
internal static partial class SpikeLists
{
    /// <summary>How many ints past the input count a list buffer needs (the widest whole-vector store).</summary>
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
    /// increasing order, and at the same positions of <paramref name="times"/> each time truncated to an integer (its
    /// grid step when the time is an integer). Returns the count, or <c>~i</c> (negative) for the first NaN at <c>i</c>.
    /// <paramref name="integerTimes"/> tells whether every collected time is an integer (the encoder's output is).
    /// Both lists must hold <c>row.Length + </c><see cref="IndexSlack"/> ints.
    /// </summary>
    public static int Collect(KernelPath path, ReadOnlySpan<float> row, float window, Span<int> indices, Span<int> times, out bool integerTimes)
    {
        if (indices.Length < row.Length + IndexSlack || times.Length < indices.Length)
        {
            Internal.ThrowHelper.InternalBound("spike list buffers"); // the scans store whole vectors by reference
        }

        if (KernelPaths.Allows(path, KernelPath.Avx512))
        {
            return CollectAvx512<TwoLists>(row, window, indices, times, 0, out integerTimes);
        }

        if (KernelPaths.Allows(path, KernelPath.Vector256))
        {
            return CollectVector256(row, window, indices, times, out integerTimes);
        }

        if (KernelVariants.Collect128 && KernelPaths.Allows(path, KernelPath.Vector128))
        {
            return CollectVector128(row, window, indices, times, out integerTimes);
        }

        return CollectScalar(row, 0, 0, false, window, indices, times, out integerTimes);
    }

    /// <summary>
    /// The time bits of a packed list entry (see <see cref="CollectPacked"/>) for times below <paramref name="steps"/>, or
    /// 0 when the entries of <paramref name="inputs"/> inputs do not fit in a non-negative int, or packed lists are not
    /// collected on <paramref name="path"/> (they are on AVX-512, where packing saves a compression per 16 inputs, and
    /// when <see cref="KernelVariants.PackedLists"/>).
    /// </summary>
    public static int PackShift(KernelPath path, int inputs, int steps)
    {
        var shift = 32 - BitOperations.LeadingZeroCount((uint)Math.Max(1, steps - 1));
        return KernelVariants.PackedLists && KernelPaths.Allows(path, KernelPath.Avx512) && ((long)inputs << shift) <= int.MaxValue ? shift : 0;
    }

    /// <summary>
    /// <see cref="Collect"/> into one list: entry <c>(i &lt;&lt; shift) | time</c> for each collected input <c>i</c>, in
    /// increasing order (so <c>entry &lt; (end &lt;&lt; shift)</c> exactly when <c>i &lt; end</c>), with
    /// <paramref name="shift"/> from <see cref="PackShift"/> (AVX-512 only). Same count, same NaN result, same integer
    /// flag, and <see cref="Unpack"/> gives back exactly <see cref="Collect"/>'s two lists. One compression per 16 inputs
    /// instead of two (the loop is bound by the port that compresses). The benchmark that justifies packed lists:
    /// <c>VariantBenchmarks</c>, <see cref="KernelVariants.PackedLists"/>.
    /// <paramref name="packed"/> must hold <c>row.Length + </c><see cref="IndexSlack"/> ints.
    /// </summary>
    public static int CollectPacked(ReadOnlySpan<float> row, float window, Span<int> packed, int shift, out bool integerTimes)
    {
        if (packed.Length < row.Length + IndexSlack || shift <= 0 || ((long)row.Length << shift) > int.MaxValue)
        {
            Internal.ThrowHelper.InternalBound("packed spike list"); // the scan stores whole vectors by reference
        }

        return CollectAvx512<PackedList>(row, window, packed, packed, shift, out integerTimes);
    }

    /// <summary>
    /// The AVX-512 spike scan, 16 inputs per step, into either list encoding (<typeparamref name="TList"/>, with
    /// <paramref name="shift"/> time bits for a packed list, 0 for two lists): <c>vpcompressd</c> packs the in-window
    /// lanes' entries to the front of a register, stored whole (<see cref="ISpikeList.Compress512"/>). The loop is bound
    /// by the vector port that compares into mask registers and compresses, so it spends one compare there:
    /// <c>0 &lt;= s &lt; window</c> is one unsigned compare of the bits of <c>s + 0</c> (<see cref="InWindow"/>). A NaN
    /// is found after the loop from the largest magnitude bits (an integer maximum, on either vector port), then the row
    /// is scanned again for the first one. Integrality is <c>float(trunc(s)) - s</c>, +0 exactly for an integer, OR-ed
    /// over the in-window lanes.
    /// </summary>
    private static int CollectAvx512<TList>(ReadOnlySpan<float> row, float window, Span<int> entries, Span<int> times, int shift, out bool integerTimes)
        where TList : ISpikeList, allows ref struct
    {
        const uint Magnitude = 0x7FFF_FFFF;
        const uint Infinity = 0x7F80_0000;
        ref var r = ref MemoryMarshal.GetReference(row);
        ref var entryRef = ref MemoryMarshal.GetReference(entries);
        ref var timeRef = ref MemoryMarshal.GetReference(times);
        var limit = Vector512.Create(BitConverter.SingleToUInt32Bits(window));
        var magnitude = Vector512.Create(Magnitude);
        var position = Vector512.ShiftLeft(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), shift);
        var step = Vector512.Create(Vector512<int>.Count << shift);
        var fractions = Vector512<float>.Zero;
        var largest = Vector512<uint>.Zero;
        var count = 0;
        var i = 0;
        for (; i <= row.Length - Vector512<float>.Count; i += Vector512<float>.Count)
        {
            var v = Vector512.LoadUnsafe(ref r, (nuint)i);
            largest = Vector512.Max(largest, v.AsUInt32() & magnitude);
            var truncated = Vector512.ConvertToInt32Native(v);
            fractions |= Vector512.ConditionalSelect(InWindow(v, limit).AsSingle(), Vector512.ConvertToSingle(truncated) - v, Vector512<float>.Zero);
            TList.Compress512(InWindow(v, limit).AsInt32(), position, truncated, ref entryRef, ref timeRef, (nuint)count);
            count += BitOperations.PopCount(Vector512.ExtractMostSignificantBits(InWindow(v, limit)));
            position += step;
        }

        if (Vector512.GreaterThanAny(largest, Vector512.Create(Infinity)))
        {
            integerTimes = false;
            return ~IndexOfNaN(row);
        }

        return CollectScalar(row, i, count, fractions.AsInt32() != Vector512<int>.Zero, window, entries, times, out integerTimes, shift);
    }

    /// <summary>
    /// The window test <c>0 &lt;= s &lt; window</c> of <see cref="CollectAvx512{TList}"/> as one unsigned compare of the
    /// bits of <c>s + 0</c> (which turns <c>-0</c> into <c>+0</c>; non-negative floats order as their bits do, and the
    /// negatives, <c>-0</c> excepted, and NaNs are above every in-window pattern) with those of the window. Called at
    /// each use, so the JIT keeps each result in a mask register (a shared local is turned into a vector and back at
    /// every use).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> InWindow(Vector512<float> v, Vector512<uint> windowBits) =>
        Vector512.LessThan((v + Vector512<float>.Zero).AsUInt32(), windowBits);

    /// <summary>8 inputs per step: the mask's table row lists the set lanes first (branch-free compaction).</summary>
    private static int CollectVector256(ReadOnlySpan<float> row, float window, Span<int> indices, Span<int> times, out bool integerTimes)
    {
        ref var r = ref MemoryMarshal.GetReference(row);
        ref var indexRef = ref MemoryMarshal.GetReference(indices);
        ref var timeRef = ref MemoryMarshal.GetReference(times);
        ref var table = ref MemoryMarshal.GetArrayDataReference(_compactionTable);
        var wv = Vector256.Create(window);
        var fractionalLanes = Vector256<float>.Zero;
        var count = 0;
        var i = 0;
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
            var lanes = Vector256.LoadUnsafe(ref table, bits * 8);
            (Vector256.Create(i) + lanes).StoreUnsafe(ref indexRef, (nuint)count);
            Vector256.ShuffleNative(Vector256.ConvertToInt32Native(v), lanes).StoreUnsafe(ref timeRef, (nuint)count);
            count += BitOperations.PopCount(bits);
            fractionalLanes |= inWindow & ~Vector256.Equals(Vector256.Floor(v), v);
        }

        return CollectScalar(row, i, count, fractionalLanes != Vector256<float>.Zero, window, indices, times, out integerTimes);
    }

    /// <summary>
    /// 4 inputs per step, as <see cref="CollectVector256"/>. The benchmark that justifies it: <c>VariantBenchmarks</c>,
    /// <see cref="KernelVariants.Collect128"/>.
    /// </summary>
    private static int CollectVector128(ReadOnlySpan<float> row, float window, Span<int> indices, Span<int> times, out bool integerTimes)
    {
        ref var r = ref MemoryMarshal.GetReference(row);
        ref var indexRef = ref MemoryMarshal.GetReference(indices);
        ref var timeRef = ref MemoryMarshal.GetReference(times);
        ref var table = ref MemoryMarshal.GetArrayDataReference(_compactionTable);
        var wv = Vector128.Create(window);
        var fractionalLanes = Vector128<float>.Zero;
        var count = 0;
        var i = 0;
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

        return CollectScalar(row, i, count, fractionalLanes != Vector128<float>.Zero, window, indices, times, out integerTimes);
    }

    /// <summary>
    /// The scalar path, and every vector path's tail: inputs from <paramref name="start"/> on, appended after
    /// <paramref name="count"/>; with <paramref name="packShift"/> (<see cref="CollectPacked"/>'s tail) into
    /// <paramref name="indices"/> alone as packed entries.
    /// </summary>
    private static int CollectScalar(ReadOnlySpan<float> row, int start, int count, bool fractional, float window, Span<int> indices, Span<int> times,
        out bool integerTimes, int packShift = 0)
    {
        for (var i = start; i < row.Length; i++)
        {
            var s = row[i];
            if (s >= 0f && s < window)
            {
                if (packShift > 0)
                {
                    indices[count++] = (i << packShift) | (int)s;
                }
                else
                {
                    times[count] = (int)s;
                    indices[count++] = i;
                }

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
}
