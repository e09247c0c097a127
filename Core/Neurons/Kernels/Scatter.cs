using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TimingBased.Neurons.Kernels;

/// <summary>
/// Scatters of weight rows by spike time: the forward's <c>bank[t] += W[i]</c> over a spike list, and phase 2 of the
/// backward's <c>dW[i] += gk[t]</c>. Each has a general path (row adds of any stride) and a path specialised for the
/// common 16-float rows (9 to 16 outputs), written for the fewest instructions per spike.
/// </summary>
internal static class Scatter
{
    /// <summary>The number of accumulator planes <see cref="Rows"/> rotates over.</summary>
    public const int Banks = 4;

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
            RowsOf16<Add256>(ref weights, ref banks, plane, indices, times, RowOps.TileWidth);
            return;
        }

        RowsGeneral(RowOps.UseVector(path, outStride), ref weights, ref banks, plane, indices, times, outStride);
    }

    /// <summary>
    /// <see cref="Rows"/> for one 16-float column tile of wider weight rows: <paramref name="weights"/> points at the
    /// tile's first column of row 0 and rows are <paramref name="weightStride"/> floats apart; the banks are
    /// <c>[T, 16]</c> planes. Same bank rotation, so each tile column gets the bits the full-width scatter gives it.
    /// </summary>
    /// <remarks>Preconditions as <see cref="Rows"/>, and <see cref="UseTiles"/>.</remarks>
    public static void RowsOfTile(KernelPath path, ref float weights, ref float banks, int plane, ReadOnlySpan<int> indices, ReadOnlySpan<int> times, int weightStride)
    {
        if (KernelPaths.Allows(path, KernelPath.Avx512))
        {
            RowsOf16<Add512>(ref weights, ref banks, plane, indices, times, weightStride);
            return;
        }

        RowsOf16<Add256>(ref weights, ref banks, plane, indices, times, weightStride);
    }

    /// <summary>
    /// <see cref="RowsOfTile"/> for two samples at once, their spikes interleaved four by four: each bank row receives
    /// the same additions in the same order as two separate calls give it, but the two samples' dependency chains
    /// (consecutive additions to one bank row, common for background pixels) overlap in time.
    /// </summary>
    /// <remarks>
    /// The benchmark that justifies it: the W5 forward (12544 × 100, 64 digits; LOG.md). On paths below AVX-512 the two
    /// samples run one after the other.
    /// </remarks>
    public static void RowsOfTilePair(KernelPath path, ref float weights, ref float banksA, ReadOnlySpan<int> indicesA, ReadOnlySpan<int> timesA,
        ref float banksB, ReadOnlySpan<int> indicesB, ReadOnlySpan<int> timesB, int plane, int weightStride)
    {
        // Whole groups of four from both lists interleaved; the rest of each list (its bank rotation continues from a
        // multiple of four, so the tail rule applies as in one call) alone.
        var common = KernelPaths.Allows(path, KernelPath.Avx512) ? Math.Min(indicesA.Length, indicesB.Length) & ~(Banks - 1) : 0;
        if (common > 0)
        {
            RowsAvx512Of16Pair(ref weights, ref banksA, indicesA[..common], timesA[..common], ref banksB, indicesB[..common], timesB[..common], plane, weightStride);
        }

        RowsOfTile(path, ref weights, ref banksA, plane, indicesA[common..], timesA[common..], weightStride);
        RowsOfTile(path, ref weights, ref banksB, plane, indicesB[common..], timesB[common..], weightStride);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RowsAvx512Of16Pair(ref float weights, ref float banksA, ReadOnlySpan<int> indicesA, ReadOnlySpan<int> timesA,
        ref float banksB, ReadOnlySpan<int> indicesB, ReadOnlySpan<int> timesB, int plane, int weightStride)
    {
        var stride = (nuint)(uint)weightStride;
        var p = (nuint)(uint)plane;
        ref var ia = ref MemoryMarshal.GetReference(indicesA);
        ref var ta = ref MemoryMarshal.GetReference(timesA);
        ref var ib = ref MemoryMarshal.GetReference(indicesB);
        ref var tb = ref MemoryMarshal.GetReference(timesB);
        var count = (nuint)indicesA.Length;
        for (nuint k = 0; k < count; k += Banks)
        {
            AddRow512(ref Unsafe.Add(ref banksA, Row16(Unsafe.Add(ref ta, k))), ref Unsafe.Add(ref weights, (nuint)(uint)Unsafe.Add(ref ia, k) * stride));
            AddRow512(ref Unsafe.Add(ref banksB, Row16(Unsafe.Add(ref tb, k))), ref Unsafe.Add(ref weights, (nuint)(uint)Unsafe.Add(ref ib, k) * stride));
            AddRow512(ref Unsafe.Add(ref banksA, p + Row16(Unsafe.Add(ref ta, k + 1))), ref Unsafe.Add(ref weights, (nuint)(uint)Unsafe.Add(ref ia, k + 1) * stride));
            AddRow512(ref Unsafe.Add(ref banksB, p + Row16(Unsafe.Add(ref tb, k + 1))), ref Unsafe.Add(ref weights, (nuint)(uint)Unsafe.Add(ref ib, k + 1) * stride));
            AddRow512(ref Unsafe.Add(ref banksA, (2 * p) + Row16(Unsafe.Add(ref ta, k + 2))), ref Unsafe.Add(ref weights, (nuint)(uint)Unsafe.Add(ref ia, k + 2) * stride));
            AddRow512(ref Unsafe.Add(ref banksB, (2 * p) + Row16(Unsafe.Add(ref tb, k + 2))), ref Unsafe.Add(ref weights, (nuint)(uint)Unsafe.Add(ref ib, k + 2) * stride));
            AddRow512(ref Unsafe.Add(ref banksA, (3 * p) + Row16(Unsafe.Add(ref ta, k + 3))), ref Unsafe.Add(ref weights, (nuint)(uint)Unsafe.Add(ref ia, k + 3) * stride));
            AddRow512(ref Unsafe.Add(ref banksB, (3 * p) + Row16(Unsafe.Add(ref tb, k + 3))), ref Unsafe.Add(ref weights, (nuint)(uint)Unsafe.Add(ref ib, k + 3) * stride));
        }
    }

    /// <summary>
    /// <see cref="RowsOfTile"/> over a packed list (see <see cref="SpikeLists.CollectPacked"/>, AVX-512 only): entry
    /// <c>p</c> adds weight row <c>p &gt;&gt; shift</c> to bank row <c>p &amp; (2^shift - 1)</c>, with the same bank rotation,
    /// so each bank row gets the bits the unpacked lists give it.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void RowsOfTilePacked(ref float weights, ref float banks, int plane, ReadOnlySpan<int> packed, int shift, int weightStride)
    {
        Debug.Assert(Avx512F.IsSupported);
        var stride = (nuint)(uint)weightStride;
        var mask = (1 << shift) - 1;
        ref var bank1 = ref Unsafe.Add(ref banks, plane);
        ref var bank2 = ref Unsafe.Add(ref banks, 2 * plane);
        ref var bank3 = ref Unsafe.Add(ref banks, 3 * plane);
        ref var p = ref MemoryMarshal.GetReference(packed);
        var count = (nuint)packed.Length;
        nuint k = 0;
        for (; k + Banks <= count; k += Banks)
        {
            AddPackedRow512(ref banks, ref weights, Unsafe.Add(ref p, k), shift, mask, stride);
            AddPackedRow512(ref bank1, ref weights, Unsafe.Add(ref p, k + 1), shift, mask, stride);
            AddPackedRow512(ref bank2, ref weights, Unsafe.Add(ref p, k + 2), shift, mask, stride);
            AddPackedRow512(ref bank3, ref weights, Unsafe.Add(ref p, k + 3), shift, mask, stride);
        }

        for (; k < count; k++)
        {
            AddPackedRow512(ref banks, ref weights, Unsafe.Add(ref p, k), shift, mask, stride);
        }
    }

    /// <summary>
    /// <see cref="RowsOfTilePair"/> over two packed lists (AVX-512 only): the same interleaving, the same bits as two
    /// <see cref="RowsOfTilePacked"/> calls.
    /// </summary>
    public static void RowsOfTilePairPacked(ref float weights, ref float banksA, ReadOnlySpan<int> packedA, ref float banksB, ReadOnlySpan<int> packedB,
        int plane, int weightStride, int shift)
    {
        var common = Math.Min(packedA.Length, packedB.Length) & ~(Banks - 1);
        if (common > 0)
        {
            RowsPackedPair(ref weights, ref banksA, packedA[..common], ref banksB, packedB[..common], plane, weightStride, shift);
        }

        RowsOfTilePacked(ref weights, ref banksA, plane, packedA[common..], shift, weightStride);
        RowsOfTilePacked(ref weights, ref banksB, plane, packedB[common..], shift, weightStride);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RowsPackedPair(ref float weights, ref float banksA, ReadOnlySpan<int> packedA, ref float banksB, ReadOnlySpan<int> packedB,
        int plane, int weightStride, int shift)
    {
        var stride = (nuint)(uint)weightStride;
        var mask = (1 << shift) - 1;
        ref var a1 = ref Unsafe.Add(ref banksA, plane);
        ref var a2 = ref Unsafe.Add(ref banksA, 2 * plane);
        ref var a3 = ref Unsafe.Add(ref banksA, 3 * plane);
        ref var b1 = ref Unsafe.Add(ref banksB, plane);
        ref var b2 = ref Unsafe.Add(ref banksB, 2 * plane);
        ref var b3 = ref Unsafe.Add(ref banksB, 3 * plane);
        ref var pa = ref MemoryMarshal.GetReference(packedA);
        ref var pb = ref MemoryMarshal.GetReference(packedB);
        var count = (nuint)packedA.Length;
        for (nuint k = 0; k < count; k += Banks)
        {
            AddPackedRow512(ref banksA, ref weights, Unsafe.Add(ref pa, k), shift, mask, stride);
            AddPackedRow512(ref banksB, ref weights, Unsafe.Add(ref pb, k), shift, mask, stride);
            AddPackedRow512(ref a1, ref weights, Unsafe.Add(ref pa, k + 1), shift, mask, stride);
            AddPackedRow512(ref b1, ref weights, Unsafe.Add(ref pb, k + 1), shift, mask, stride);
            AddPackedRow512(ref a2, ref weights, Unsafe.Add(ref pa, k + 2), shift, mask, stride);
            AddPackedRow512(ref b2, ref weights, Unsafe.Add(ref pb, k + 2), shift, mask, stride);
            AddPackedRow512(ref a3, ref weights, Unsafe.Add(ref pa, k + 3), shift, mask, stride);
            AddPackedRow512(ref b3, ref weights, Unsafe.Add(ref pb, k + 3), shift, mask, stride);
        }
    }

    /// <summary>Bank row <c>p &amp; mask</c> += weight row <c>p &gt;&gt; shift</c> (16 floats, rows <paramref name="stride"/> apart), as one 512-bit add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddPackedRow512(ref float bank, ref float weights, int p, int shift, int mask, nuint stride) =>
        AddRow512(ref Unsafe.Add(ref bank, Row16(p & mask)), ref Unsafe.Add(ref weights, (nuint)(uint)(p >>> shift) * stride));

    /// <summary><c>destination[k] += source[k]</c> for 16 floats, as one 512-bit add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow512(ref float destination, ref float source) =>
        (Vector512.LoadUnsafe(ref destination) + Vector512.LoadUnsafe(ref source)).StoreUnsafe(ref destination);

    /// <summary>
    /// Whether <see cref="RowsOfTile"/> and the tile recurrences (the forward's and the backward's <c>gk</c> of one tile)
    /// may run: 256-bit vectors (or wider) on <paramref name="path"/>.
    /// </summary>
    public static bool UseTiles(KernelPath path) => KernelPaths.Allows(path, KernelPath.Vector256);

    /// <summary>Any stride: four row adds per step, one per bank.</summary>
    private static void RowsGeneral(bool vector, ref float weights, ref float banks, int plane, ReadOnlySpan<int> indices, ReadOnlySpan<int> times, int outStride)
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
    /// 16-float rows (weight rows <paramref name="weightStride"/> floats apart), one spike per bank, with the row add of
    /// <typeparamref name="TAdd"/>: two 256-bit adds (<see cref="Add256"/>) or one 512-bit add (<see cref="Add512"/>);
    /// the JIT compiles one copy per adder. The loop is limited by throughput and by the weight rows' loads: constant
    /// row shifts, zero-extended offsets (see docs/performance.md for when each add width won).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // its own register allocation: inlined, the loop reloads spilled list pointers
    private static void RowsOf16<TAdd>(ref float weights, ref float banks, int plane, ReadOnlySpan<int> indices, ReadOnlySpan<int> times, int weightStride)
        where TAdd : struct, IRowAdd
    {
        var stride = (nuint)(uint)weightStride;
        ref var bank1 = ref Unsafe.Add(ref banks, plane);
        ref var bank2 = ref Unsafe.Add(ref banks, 2 * plane);
        ref var bank3 = ref Unsafe.Add(ref banks, 3 * plane);
        ref var indexRef = ref MemoryMarshal.GetReference(indices);
        ref var timeRef = ref MemoryMarshal.GetReference(times);
        var count = (nuint)indices.Length;
        nuint k = 0;
        for (; k + Banks <= count; k += Banks)
        {
            TAdd.Add(ref Unsafe.Add(ref banks, Row16(Unsafe.Add(ref timeRef, k))), ref Unsafe.Add(ref weights, (nuint)(uint)Unsafe.Add(ref indexRef, k) * stride));
            TAdd.Add(ref Unsafe.Add(ref bank1, Row16(Unsafe.Add(ref timeRef, k + 1))), ref Unsafe.Add(ref weights, (nuint)(uint)Unsafe.Add(ref indexRef, k + 1) * stride));
            TAdd.Add(ref Unsafe.Add(ref bank2, Row16(Unsafe.Add(ref timeRef, k + 2))), ref Unsafe.Add(ref weights, (nuint)(uint)Unsafe.Add(ref indexRef, k + 2) * stride));
            TAdd.Add(ref Unsafe.Add(ref bank3, Row16(Unsafe.Add(ref timeRef, k + 3))), ref Unsafe.Add(ref weights, (nuint)(uint)Unsafe.Add(ref indexRef, k + 3) * stride));
        }

        for (; k < count; k++)
        {
            TAdd.Add(ref Unsafe.Add(ref banks, Row16(Unsafe.Add(ref timeRef, k))), ref Unsafe.Add(ref weights, (nuint)(uint)Unsafe.Add(ref indexRef, k) * stride));
        }
    }

    /// <summary>A 16-float row add, <c>destination[k] += source[k]</c>, as a type argument of <see cref="RowsOf16{TAdd}"/>.</summary>
    private interface IRowAdd
    {
        static abstract void Add(ref float destination, ref float source);
    }

    /// <summary>Two 256-bit adds.</summary>
    private readonly struct Add256 : IRowAdd
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Add(ref float destination, ref float source) => AddRow16(ref destination, ref source);
    }

    /// <summary>One 512-bit add.</summary>
    private readonly struct Add512 : IRowAdd
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Add(ref float destination, ref float source) => AddRow512(ref destination, ref source);
    }

    /// <summary>
    /// Phase 2 of the backward for integer times: <c>dW[indices[k] - firstRow] += gk[times[k]]</c> (rows of
    /// <paramref name="outStride"/> floats; <paramref name="dW"/> holds the rows of inputs <paramref name="firstRow"/>
    /// on) for <c>k = from, from + 1, ...</c> while <c>k &lt;= last</c> and <c>indices[k] &lt; end</c>; returns the first
    /// <c>k</c> not processed.
    /// </summary>
    /// <remarks>Precondition (the caller's): every index from position <paramref name="from"/> on is at least <paramref name="firstRow"/>.</remarks>
    public static int RowsByTime(KernelPath path, ref float dW, int firstRow, ref float gk, ref int indices, ref int times, int from, int last, int end, int outStride)
    {
        if (KernelPaths.Allows(path, KernelPath.Avx512) && outStride == Vector512<float>.Count)
        {
            return RowsByTimeAvx512Of16(ref dW, firstRow, ref gk, ref indices, ref times, from, last, end);
        }

        if (KernelPaths.Allows(path, KernelPath.Avx512) && outStride % Vector512<float>.Count == 0)
        {
            return RowsByTimeAvx512(ref dW, firstRow, ref gk, ref indices, ref times, from, last, end, outStride, outStride);
        }

        return RowsByTimeGeneral(RowOps.UseVector(path, outStride), ref dW, firstRow, ref gk, ref indices, ref times, from, last, end, outStride, outStride);
    }

    /// <summary>
    /// 16-float rows as one 512-bit load-add-store: the <c>dW</c> rows of one call are distinct, so nothing reads a row
    /// back right after its store (W3's training step, against two 256-bit adds; LOG.md). Native-width positions
    /// and zero-extended row offsets: no sign extensions in the loop.
    /// </summary>
    private static int RowsByTimeAvx512Of16(ref float dW, int firstRow, ref float gk, ref int indices, ref int times, int from, int last, int end)
    {
        nint position = from;

        // Four spikes per step while the fourth is still below end: the indices increase, so then all four are, and one
        // test serves four row adds (the non-tape backward of W3; LOG.md). Each dW row gets the same additions in the
        // same order as one at a time.
        for (; position + 3 <= last && Unsafe.Add(ref indices, position + 3) < end; position += 4)
        {
            AddGradientRow16(ref dW, firstRow, ref gk, ref indices, ref times, position);
            AddGradientRow16(ref dW, firstRow, ref gk, ref indices, ref times, position + 1);
            AddGradientRow16(ref dW, firstRow, ref gk, ref indices, ref times, position + 2);
            AddGradientRow16(ref dW, firstRow, ref gk, ref indices, ref times, position + 3);
        }

        for (; position <= last && Unsafe.Add(ref indices, position) < end; position++)
        {
            AddGradientRow16(ref dW, firstRow, ref gk, ref indices, ref times, position);
        }

        return (int)position;
    }

    /// <summary><c>dW[indices[position] - firstRow] += gk[times[position]]</c> for 16-float rows, as one 512-bit load-add-store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddGradientRow16(ref float dW, int firstRow, ref float gk, ref int indices, ref int times, nint position)
    {
        ref var row = ref Unsafe.Add(ref dW, Row16(Unsafe.Add(ref indices, position) - firstRow));
        (Vector512.LoadUnsafe(ref row) + Vector512.LoadUnsafe(ref gk, Row16(Unsafe.Add(ref times, position)))).StoreUnsafe(ref row);
    }

    /// <summary>
    /// <see cref="RowsByTime"/> for one 16-float column tile of wider rows: <paramref name="dW"/> and <paramref name="gk"/>
    /// point at the tile's first column and rows are <paramref name="outStride"/> floats apart. Each <c>dW</c> element gets
    /// the same additions in the same order as from <see cref="RowsByTime"/>, so a caller may add only the tiles whose
    /// <c>gk</c> columns are not all zero: adding a signed zero to a sum that starts at +0 never changes it.
    /// </summary>
    public static int RowsByTimeOfTile(KernelPath path, ref float dW, int firstRow, ref float gk, ref int indices, ref int times, int from, int last, int end, int outStride)
    {
        Debug.Assert(outStride % RowOps.TileWidth == 0);
        if (KernelPaths.Allows(path, KernelPath.Avx512))
        {
            return RowsByTimeAvx512(ref dW, firstRow, ref gk, ref indices, ref times, from, last, end, outStride, RowOps.TileWidth);
        }

        return RowsByTimeGeneral(RowOps.UseVector(path, RowOps.TileWidth), ref dW, firstRow, ref gk, ref indices, ref times, from, last, end, outStride, RowOps.TileWidth);
    }

    /// <summary>
    /// The first <paramref name="width"/> floats (whole 16-float tiles) of rows <paramref name="outStride"/> floats apart,
    /// as 512-bit load-add-stores (half the instructions of the <see cref="System.Numerics.Vector{T}"/> path).
    /// </summary>
    private static int RowsByTimeAvx512(ref float dW, int firstRow, ref float gk, ref int indices, ref int times, int from, int last, int end, int outStride, int width)
    {
        var stride = (nuint)(uint)outStride;
        var floats = (nuint)(uint)width;
        nint position = from;
        for (; position <= last; position++)
        {
            var i = Unsafe.Add(ref indices, position);
            if (i >= end)
            {
                break;
            }

            ref var row = ref Unsafe.Add(ref dW, (nuint)(uint)(i - firstRow) * stride);
            ref var source = ref Unsafe.Add(ref gk, (nuint)(uint)Unsafe.Add(ref times, position) * stride);
            for (nuint j = 0; j < floats; j += 16)
            {
                (Vector512.LoadUnsafe(ref row, j) + Vector512.LoadUnsafe(ref source, j)).StoreUnsafe(ref row, j);
            }
        }

        return (int)position;
    }

    private static int RowsByTimeGeneral(bool vector, ref float dW, int firstRow, ref float gk, ref int indices, ref int times, int from, int last, int end, int outStride, int width)
    {
        var k = from;
        for (; k <= last; k++)
        {
            var i = Unsafe.Add(ref indices, k);
            if (i >= end)
            {
                break;
            }

            RowOps.Add(vector, ref Unsafe.Add(ref dW, (i - firstRow) * outStride), ref Unsafe.Add(ref gk, Unsafe.Add(ref times, k) * outStride), width);
        }

        return k;
    }

    /// <summary>
    /// <see cref="RowsByTime"/> (or, for <paramref name="width"/> 16 below <paramref name="outStride"/>, its one-tile
    /// form <see cref="RowsByTimeOfTile"/>) over a packed list (see <see cref="SpikeLists.CollectPacked"/>, AVX-512 only):
    /// entry <c>p</c> adds <c>gk</c> row <c>p &amp; (2^shift - 1)</c> to <c>dW</c> row <c>(p &gt;&gt; shift) - firstRow</c>
    /// while <c>p &lt; end &lt;&lt; shift</c>. The same additions in the same order as from the unpacked lists. Its loop for
    /// wide rows is <c>RowsByTimeAvx512</c>'s over the other encoding of a list entry.
    /// </summary>
    public static int RowsByTimePacked(ref float dW, int firstRow, ref float gk, ref int packed, int from, int last, int end, int outStride, int width, int shift)
    {
        Debug.Assert(Avx512F.IsSupported && width % Vector512<float>.Count == 0 && width <= outStride);
        if (outStride == Vector512<float>.Count)
        {
            return RowsByTimePackedAvx512Of16(ref dW, firstRow, ref gk, ref packed, from, last, end, shift);
        }

        var origin = firstRow << shift;
        var stop = end << shift;
        var mask = (1 << shift) - 1;
        var stride = (nuint)(uint)outStride;
        var k = from;
        for (; k <= last; k++)
        {
            var p = Unsafe.Add(ref packed, k);
            if (p >= stop)
            {
                break;
            }

            ref var row = ref Unsafe.Add(ref dW, (nuint)(uint)((p - origin) >> shift) * stride);
            ref var source = ref Unsafe.Add(ref gk, (nuint)(uint)(p & mask) * stride);
            for (nuint j = 0; j < (nuint)(uint)width; j += 16)
            {
                (Vector512.LoadUnsafe(ref row, j) + Vector512.LoadUnsafe(ref source, j)).StoreUnsafe(ref row, j);
            }
        }

        return k;
    }

    /// <summary><see cref="RowsByTimeAvx512Of16"/> over a packed list: four entries per test of the fourth, as there.</summary>
    private static int RowsByTimePackedAvx512Of16(ref float dW, int firstRow, ref float gk, ref int packed, int from, int last, int end, int shift)
    {
        var origin = firstRow << shift;
        var stop = end << shift;
        var mask = (1 << shift) - 1;
        nint position = from;
        for (; position + 3 <= last && Unsafe.Add(ref packed, position + 3) < stop; position += 4)
        {
            AddPackedRow16(ref dW, origin, ref gk, Unsafe.Add(ref packed, position), shift, mask);
            AddPackedRow16(ref dW, origin, ref gk, Unsafe.Add(ref packed, position + 1), shift, mask);
            AddPackedRow16(ref dW, origin, ref gk, Unsafe.Add(ref packed, position + 2), shift, mask);
            AddPackedRow16(ref dW, origin, ref gk, Unsafe.Add(ref packed, position + 3), shift, mask);
        }

        for (; position <= last && Unsafe.Add(ref packed, position) < stop; position++)
        {
            AddPackedRow16(ref dW, origin, ref gk, Unsafe.Add(ref packed, position), shift, mask);
        }

        return (int)position;
    }

    /// <summary>One packed entry's <c>dW</c> row += <c>gk</c> row, 16 floats as one 512-bit load-add-store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddPackedRow16(ref float dW, int origin, ref float gk, int p, int shift, int mask)
    {
        ref var row = ref Unsafe.Add(ref dW, Row16((p - origin) >> shift));
        (Vector512.LoadUnsafe(ref row) + Vector512.LoadUnsafe(ref gk, Row16(p & mask))).StoreUnsafe(ref row);
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
}
