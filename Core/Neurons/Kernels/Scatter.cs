using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TimingBased.Neurons.Kernels;

/// <summary>
/// The forward scatter, <c>bank[t] += W[i]</c> over a spike list: weight rows added into accumulator planes by spike
/// time. Phase 2's scatter, <c>dW[i] += gk[t]</c>, is in <c>Scatter.ByTime.cs</c>.
/// </summary>
/// <remarks>
/// One loop per row shape: <see cref="RowsAnyWidth"/> for rows of any stride, <see cref="RowsOf16{TList, TAdd}"/> for
/// 16-float rows (a one-tile layer's rows, or one column tile of a wider layer's), and
/// <see cref="PairOf16{TList, TAdd}"/> for two samples' 16-float scatters interleaved. What varies is a type argument:
/// the list encoding (<see cref="ISpikeList"/>) and the row add (<see cref="IRowAdd16"/>, 256- or 512-bit).
/// </remarks>
internal static partial class Scatter
{
    /// <summary>The number of accumulator planes the forward scatter rotates over.</summary>
    public const int Banks = 4;

    /// <summary>
    /// Whether <see cref="RowsOfTile{TList}"/> and the tile recurrences (the forward's and the backward's <c>gk</c> of one
    /// tile) may run: 256-bit vectors (or wider) on <paramref name="path"/>, and <see cref="KernelVariants.Tiles"/>.
    /// </summary>
    public static bool UseTiles(KernelPath path) => KernelVariants.Tiles && KernelPaths.Allows(path, KernelPath.Vector256);

    /// <summary>
    /// The forward scatter for integer times: <c>bank[k % 4][times[k]] += W[indices[k]]</c> (rows of
    /// <paramref name="outStride"/> floats), except that the last <c>count % 4</c> spikes go to bank 0, with the
    /// <see cref="Banks"/> banks (each <paramref name="plane"/> floats) one after the other from
    /// <paramref name="banks"/>. Spikes rotate over the banks so consecutive spikes at the same time (common: most
    /// encoded pixels are background) do not wait on each other's store. Every bank receives its spikes' rows in
    /// list order on every path, so the result does not depend on the path.
    /// </summary>
    /// <remarks>Preconditions (checked by the caller): every time is in <c>[0, plane / outStride)</c> and every index below the weight rows.</remarks>
    public static void Rows(KernelPath path, ref float weights, ref float banks, int plane, ReadOnlySpan<int> indices, ReadOnlySpan<int> times, int outStride)
    {
        Debug.Assert(times.Length == indices.Length && plane % outStride == 0);
        if (KernelPaths.Allows(path, KernelPath.Vector256) && outStride == RowOps.TileWidth)
        {
            RowsOf16<TwoLists, Add256>(new TwoLists(indices, times), 0, ref weights, ref banks, plane, RowOps.TileWidth);
            return;
        }

        RowsAnyWidth(RowOps.UseVector(path, outStride), ref weights, ref banks, plane, indices, times, outStride);
    }

    /// <summary>
    /// <see cref="Rows"/> for one 16-float column tile of wider weight rows: <paramref name="weights"/> points at the
    /// tile's first column of row 0 and rows are <paramref name="weightStride"/> floats apart; the banks are
    /// <c>[T, 16]</c> planes. Same bank rotation, so each tile column gets the bits the full-width scatter gives it.
    /// </summary>
    /// <remarks>Preconditions as <see cref="Rows"/>, and <see cref="UseTiles"/>.</remarks>
    public static void RowsOfTile<TList>(KernelPath path, scoped TList list, ref float weights, ref float banks, int plane, int weightStride)
        where TList : ISpikeList, allows ref struct
    {
        if (Use512(path))
        {
            RowsOf16<TList, Add512>(list, 0, ref weights, ref banks, plane, weightStride);
            return;
        }

        RowsOf16<TList, Add256>(list, 0, ref weights, ref banks, plane, weightStride);
    }

    /// <summary>
    /// <see cref="RowsOfTile{TList}"/> for two samples at once, their spikes interleaved four by four: each bank row
    /// receives the same additions in the same order as two separate calls give it, but the two samples' dependency
    /// chains (consecutive additions to one bank row, common for background pixels) overlap in time.
    /// </summary>
    /// <remarks>The benchmark that justifies it: <c>VariantBenchmarks</c>, <see cref="KernelVariants.Pairs"/>.</remarks>
    public static void RowsOfTilePair<TList>(KernelPath path, ref float weights, scoped TList listA, ref float banksA, scoped TList listB, ref float banksB,
        int plane, int weightStride)
        where TList : ISpikeList, allows ref struct
    {
        // Whole groups of four from both lists interleaved; the rest of each list (its bank rotation continues from a
        // multiple of four, so the tail rule applies as in one call) alone.
        var common = KernelVariants.Pairs ? Math.Min(listA.Count, listB.Count) & ~(Banks - 1) : 0;
        if (Use512(path))
        {
            TilePair<TList, Add512>(listA, ref banksA, listB, ref banksB, common, ref weights, plane, weightStride);
            return;
        }

        TilePair<TList, Add256>(listA, ref banksA, listB, ref banksB, common, ref weights, plane, weightStride);
    }

    /// <summary>The first <paramref name="common"/> entries of both lists interleaved, then the rest of each alone, with the row add of <typeparamref name="TAdd"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TilePair<TList, TAdd>(scoped TList listA, ref float banksA, scoped TList listB, ref float banksB, int common,
        ref float weights, int plane, int weightStride)
        where TList : ISpikeList, allows ref struct
        where TAdd : struct, IRowAdd16
    {
        PairOf16<TList, TAdd>(listA, ref banksA, listB, ref banksB, common, ref weights, plane, weightStride);
        RowsOf16<TList, TAdd>(listA, common, ref weights, ref banksA, plane, weightStride);
        RowsOf16<TList, TAdd>(listB, common, ref weights, ref banksB, plane, weightStride);
    }

    /// <summary>Whether the 16-float row adds are 512-bit: AVX-512 on <paramref name="path"/>, and <see cref="KernelVariants.Adds512"/>.</summary>
    private static bool Use512(KernelPath path) => KernelVariants.Adds512 && KernelPaths.Allows(path, KernelPath.Avx512);

    /// <summary>
    /// Any stride: four row adds per step, one per bank, the entries from 0 on (the full-width scatter of a layer that
    /// is not one tile wide).
    /// </summary>
    private static void RowsAnyWidth(bool vector, ref float weights, ref float banks, int plane, ReadOnlySpan<int> indices, ReadOnlySpan<int> times, int outStride)
    {
        ref var bank1 = ref Unsafe.Add(ref banks, plane);
        ref var bank2 = ref Unsafe.Add(ref banks, 2 * plane);
        ref var bank3 = ref Unsafe.Add(ref banks, 3 * plane);
        ref var indexRef = ref MemoryMarshal.GetReference(indices);
        ref var timeRef = ref MemoryMarshal.GetReference(times);
        var count = indices.Length;
        var k = 0;
        for (; k <= count - Banks; k += Banks)
        {
            RowOps.Add(vector, ref Unsafe.Add(ref banks, Unsafe.Add(ref timeRef, k) * outStride), ref Unsafe.Add(ref weights, Unsafe.Add(ref indexRef, k) * outStride), outStride);
            RowOps.Add(vector, ref Unsafe.Add(ref bank1, Unsafe.Add(ref timeRef, k + 1) * outStride), ref Unsafe.Add(ref weights, Unsafe.Add(ref indexRef, k + 1) * outStride), outStride);
            RowOps.Add(vector, ref Unsafe.Add(ref bank2, Unsafe.Add(ref timeRef, k + 2) * outStride), ref Unsafe.Add(ref weights, Unsafe.Add(ref indexRef, k + 2) * outStride), outStride);
            RowOps.Add(vector, ref Unsafe.Add(ref bank3, Unsafe.Add(ref timeRef, k + 3) * outStride), ref Unsafe.Add(ref weights, Unsafe.Add(ref indexRef, k + 3) * outStride), outStride);
        }

        for (; k < count; k++)
        {
            RowOps.Add(vector, ref Unsafe.Add(ref banks, Unsafe.Add(ref timeRef, k) * outStride), ref Unsafe.Add(ref weights, Unsafe.Add(ref indexRef, k) * outStride), outStride);
        }
    }

    /// <summary>
    /// 16-float rows (weight rows <paramref name="weightStride"/> floats apart), the entries from <paramref name="start"/>
    /// (a multiple of <see cref="Banks"/>) on, one spike per bank. The loop is limited by throughput and by the weight
    /// rows' loads: constant row shifts, zero-extended offsets.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // its own register allocation: inlined, the loop reloads spilled list pointers
    private static void RowsOf16<TList, TAdd>(scoped TList list, int start, ref float weights, ref float banks, int plane, int weightStride)
        where TList : ISpikeList, allows ref struct
        where TAdd : struct, IRowAdd16
    {
        Debug.Assert(start % Banks == 0);
        ref var entries = ref list.Entries;
        ref var times = ref list.Times;
        var shift = list.Shift;
        var mask = (1 << shift) - 1;
        var stride = (nuint)(uint)weightStride;
        ref var bank1 = ref Unsafe.Add(ref banks, plane);
        ref var bank2 = ref Unsafe.Add(ref banks, 2 * plane);
        ref var bank3 = ref Unsafe.Add(ref banks, 3 * plane);
        var count = (nint)(uint)list.Count;
        var k = (nint)(uint)start;
        for (; k + Banks <= count; k += Banks)
        {
            AddEntry<TList, TAdd>(ref entries, ref times, k, shift, mask, ref banks, ref weights, stride);
            AddEntry<TList, TAdd>(ref entries, ref times, k + 1, shift, mask, ref bank1, ref weights, stride);
            AddEntry<TList, TAdd>(ref entries, ref times, k + 2, shift, mask, ref bank2, ref weights, stride);
            AddEntry<TList, TAdd>(ref entries, ref times, k + 3, shift, mask, ref bank3, ref weights, stride);
        }

        for (; k < count; k++)
        {
            AddEntry<TList, TAdd>(ref entries, ref times, k, shift, mask, ref banks, ref weights, stride);
        }
    }

    /// <summary>
    /// The first <paramref name="count"/> (a multiple of <see cref="Banks"/>) entries of two lists, each into its own
    /// banks, interleaved one by one: <see cref="RowsOf16{TList, TAdd}"/>'s additions, in its order for each sample.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void PairOf16<TList, TAdd>(scoped TList listA, ref float banksA, scoped TList listB, ref float banksB, int count,
        ref float weights, int plane, int weightStride)
        where TList : ISpikeList, allows ref struct
        where TAdd : struct, IRowAdd16
    {
        Debug.Assert(count % Banks == 0 && count <= listA.Count && count <= listB.Count);
        ref var a = ref listA.Entries;
        ref var aTimes = ref listA.Times;
        ref var b = ref listB.Entries;
        ref var bTimes = ref listB.Times;
        var shift = listA.Shift;
        var mask = (1 << shift) - 1;
        Debug.Assert(listB.Shift == shift);
        var stride = (nuint)(uint)weightStride;
        ref var a1 = ref Unsafe.Add(ref banksA, plane);
        ref var a2 = ref Unsafe.Add(ref banksA, 2 * plane);
        ref var a3 = ref Unsafe.Add(ref banksA, 3 * plane);
        ref var b1 = ref Unsafe.Add(ref banksB, plane);
        ref var b2 = ref Unsafe.Add(ref banksB, 2 * plane);
        ref var b3 = ref Unsafe.Add(ref banksB, 3 * plane);
        for (nint k = 0; k < count; k += Banks)
        {
            AddEntry<TList, TAdd>(ref a, ref aTimes, k, shift, mask, ref banksA, ref weights, stride);
            AddEntry<TList, TAdd>(ref b, ref bTimes, k, shift, mask, ref banksB, ref weights, stride);
            AddEntry<TList, TAdd>(ref a, ref aTimes, k + 1, shift, mask, ref a1, ref weights, stride);
            AddEntry<TList, TAdd>(ref b, ref bTimes, k + 1, shift, mask, ref b1, ref weights, stride);
            AddEntry<TList, TAdd>(ref a, ref aTimes, k + 2, shift, mask, ref a2, ref weights, stride);
            AddEntry<TList, TAdd>(ref b, ref bTimes, k + 2, shift, mask, ref b2, ref weights, stride);
            AddEntry<TList, TAdd>(ref a, ref aTimes, k + 3, shift, mask, ref a3, ref weights, stride);
            AddEntry<TList, TAdd>(ref b, ref bTimes, k + 3, shift, mask, ref b3, ref weights, stride);
        }
    }

    /// <summary>One entry's weight row into its bank row: <c>bank[time] += W[input]</c>, 16 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddEntry<TList, TAdd>(ref int entries, ref int times, nint k, int shift, int mask, ref float bank, ref float weights, nuint stride)
        where TList : ISpikeList, allows ref struct
        where TAdd : struct, IRowAdd16 =>
        TAdd.Add(ref Unsafe.Add(ref bank, Row16(TList.Time(ref entries, ref times, k, mask))),
            ref Unsafe.Add(ref weights, (nuint)(uint)TList.Input(ref entries, k, shift) * stride));

    /// <summary>The offset of row <paramref name="row"/> (non-negative) in a 16-float-row matrix, zero-extended.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint Row16(int row) => (nuint)(uint)row << 4;

    /// <summary>A 16-float row add, <c>destination[k] += source[k]</c>, as a type argument of the 16-float loops.</summary>
    private interface IRowAdd16
    {
        static abstract void Add(ref float destination, ref float source);
    }

    /// <summary>Two 256-bit adds.</summary>
    private readonly struct Add256 : IRowAdd16
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Add(ref float destination, ref float source)
        {
            (Vector256.LoadUnsafe(ref destination) + Vector256.LoadUnsafe(ref source)).StoreUnsafe(ref destination);
            (Vector256.LoadUnsafe(ref destination, 8) + Vector256.LoadUnsafe(ref source, 8)).StoreUnsafe(ref destination, 8);
        }
    }

    /// <summary>One 512-bit add. The benchmark that justifies it: <c>VariantBenchmarks</c>, <see cref="KernelVariants.Adds512"/>.</summary>
    private readonly struct Add512 : IRowAdd16
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Add(ref float destination, ref float source) =>
            (Vector512.LoadUnsafe(ref destination) + Vector512.LoadUnsafe(ref source)).StoreUnsafe(ref destination);
    }
}
