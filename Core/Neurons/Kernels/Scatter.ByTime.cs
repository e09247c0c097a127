using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace TimingBased.Neurons.Kernels;

// Phase 2's scatter: dW[i] += gk[t] over a spike list, for the rows of one range of inputs.
internal static partial class Scatter
{
    /// <summary>
    /// Phase 2 of the backward for integer times: <c>dW[Input(k) - firstRow] += gk[Time(k)]</c> (rows of
    /// <paramref name="outStride"/> floats; <paramref name="dW"/> holds the rows of inputs <paramref name="firstRow"/>
    /// on) for <c>k = from, from + 1, ...</c> while <c>k &lt; list.Count</c> and <c>Input(k) &lt; end</c>; returns the
    /// first <c>k</c> not processed. Each <c>dW</c> row gets its additions in list order on every path.
    /// </summary>
    /// <remarks>Precondition (the caller's): every input from position <paramref name="from"/> on is at least <paramref name="firstRow"/>.</remarks>
    public static int RowsByTime<TList>(KernelPath path, scoped TList list, int from, int end, ref float dW, int firstRow, ref float gk, int outStride)
        where TList : ISpikeList, allows ref struct
    {
        if (Use512(path) && outStride == Vector512<float>.Count)
        {
            return ByTime16(list, from, end, ref dW, firstRow, ref gk);
        }

        if (Use512(path) && outStride % Vector512<float>.Count == 0)
        {
            return ByTimeWide512(list, from, end, ref dW, firstRow, ref gk, outStride, outStride);
        }

        return ByTimeAnyWidth(RowOps.UseVector(path, outStride), list, from, end, ref dW, firstRow, ref gk, outStride, outStride);
    }

    /// <summary>
    /// <see cref="RowsByTime{TList}"/> for one 16-float column tile of wider rows: <paramref name="dW"/> and
    /// <paramref name="gk"/> point at the tile's first column and rows are <paramref name="outStride"/> floats apart.
    /// Each <c>dW</c> element gets the same additions in the same order as from <see cref="RowsByTime{TList}"/>, so a
    /// caller may add only the tiles whose <c>gk</c> columns are not all zero: adding a signed zero to a sum that starts
    /// at +0 never changes it.
    /// </summary>
    public static int RowsByTimeOfTile<TList>(KernelPath path, scoped TList list, int from, int end, ref float dW, int firstRow, ref float gk, int outStride)
        where TList : ISpikeList, allows ref struct
    {
        if (Use512(path))
        {
            return ByTimeWide512(list, from, end, ref dW, firstRow, ref gk, outStride, RowOps.TileWidth);
        }

        return ByTimeAnyWidth(RowOps.UseVector(path, RowOps.TileWidth), list, from, end, ref dW, firstRow, ref gk, outStride, RowOps.TileWidth);
    }

    /// <summary>
    /// 16-float rows as one 512-bit load-add-store: the <c>dW</c> rows of one call are distinct, so nothing reads a row
    /// back right after its store; constant row shifts, zero-extended offsets.
    /// </summary>
    private static int ByTime16<TList>(scoped TList list, int from, int end, ref float dW, int firstRow, ref float gk)
        where TList : ISpikeList, allows ref struct
    {
        ref var entries = ref list.Entries;
        ref var times = ref list.Times;
        var shift = list.Shift;
        var mask = (1 << shift) - 1;
        var bound = TList.Bound(end, shift);
        var count = (nint)list.Count;
        nint position = from;
        for (; position < count && Unsafe.Add(ref entries, position) < bound; position++)
        {
            AddGradientRow16<TList>(ref entries, ref times, position, shift, mask, ref dW, firstRow, ref gk);
        }

        return (int)position;
    }

    /// <summary><c>dW[input - firstRow] += gk[time]</c> for entry <paramref name="k"/>'s 16-float rows, as one 512-bit load-add-store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddGradientRow16<TList>(ref int entries, ref int times, nint k, int shift, int mask, ref float dW, int firstRow, ref float gk)
        where TList : ISpikeList, allows ref struct
    {
        ref var row = ref Unsafe.Add(ref dW, Row16(TList.Input(ref entries, k, shift) - firstRow));
        (Vector512.LoadUnsafe(ref row) + Vector512.LoadUnsafe(ref gk, Row16(TList.Time(ref entries, ref times, k, mask)))).StoreUnsafe(ref row);
    }

    /// <summary>
    /// The first <paramref name="width"/> floats (whole 16-float tiles) of rows <paramref name="outStride"/> floats apart,
    /// as 512-bit load-add-stores.
    /// </summary>
    private static int ByTimeWide512<TList>(scoped TList list, int from, int end, ref float dW, int firstRow, ref float gk, int outStride, int width)
        where TList : ISpikeList, allows ref struct
    {
        ref var entries = ref list.Entries;
        ref var times = ref list.Times;
        var shift = list.Shift;
        var mask = (1 << shift) - 1;
        var bound = TList.Bound(end, shift);
        var stride = (nuint)(uint)outStride;
        var floats = (nuint)(uint)width;
        var count = (nint)list.Count;
        nint position = from;
        for (; position < count && Unsafe.Add(ref entries, position) < bound; position++)
        {
            ref var row = ref Unsafe.Add(ref dW, (nuint)(uint)(TList.Input(ref entries, position, shift) - firstRow) * stride);
            ref var source = ref Unsafe.Add(ref gk, (nuint)(uint)TList.Time(ref entries, ref times, position, mask) * stride);
            for (nuint j = 0; j < floats; j += 16)
            {
                (Vector512.LoadUnsafe(ref row, j) + Vector512.LoadUnsafe(ref source, j)).StoreUnsafe(ref row, j);
            }
        }

        return (int)position;
    }

    /// <summary>The first <paramref name="width"/> floats of rows <paramref name="outStride"/> floats apart, with <see cref="RowOps.Add"/>.</summary>
    private static int ByTimeAnyWidth<TList>(bool vector, scoped TList list, int from, int end, ref float dW, int firstRow, ref float gk, int outStride, int width)
        where TList : ISpikeList, allows ref struct
    {
        ref var entries = ref list.Entries;
        ref var times = ref list.Times;
        var shift = list.Shift;
        var mask = (1 << shift) - 1;
        var bound = TList.Bound(end, shift);
        var count = list.Count;
        var k = from;
        for (; k < count && Unsafe.Add(ref entries, k) < bound; k++)
        {
            RowOps.Add(vector, ref Unsafe.Add(ref dW, (TList.Input(ref entries, k, shift) - firstRow) * outStride),
                ref Unsafe.Add(ref gk, TList.Time(ref entries, ref times, k, mask) * outStride), width);
        }

        return k;
    }
}
