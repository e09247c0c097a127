using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TimingBased.Neurons.Kernels;

/// <summary>
/// The weight-layout transposes between the internal <c>[in, outStride]</c> matrix (padding columns zero) and the
/// public <c>[out, in]</c> one, over a range of inputs. Two paths: 8 × 8 tiles transposed in AVX registers, and the
/// scalar element copy (the definition, and the tails). Both copy values, so their results are bit-identical.
/// </summary>
/// <remarks>
/// The tiled path walks runs of <see cref="Run"/> inputs, eight public rows at a time; the scalar path (and the tail of
/// fewer than eight inputs) walks blocks of <see cref="Block"/> inputs whose internal rows stay in L1 while each public
/// row's run is written. For the W5 gradient (12544 × 100) the tiles take about half the element copy's time
/// (LOG.md).
/// </remarks>
internal static class LayoutTranspose
{
    /// <summary>Inputs per block: 16 internal rows and one 64-byte run of each public row.</summary>
    public const int Block = 16;

    private const int Tile = 8;

    /// <summary>Inputs per run of the tiled path: 1 KB of each of eight public rows (L1), the run's internal rows (104 KB for 100 outputs) in L2; 64 and 1024 measured no better.</summary>
    private const int Run = 256;

    /// <summary>
    /// Copies inputs <c>[firstInput, endInput)</c> of the internal layout <paramref name="source"/> (<c>[ins, outStride]</c>,
    /// or only the rows from input <paramref name="internalFirst"/> on) into the public layout
    /// <paramref name="destination"/> (<c>[outs, ins]</c>). With <paramref name="liveOutputs"/> (1 or 0 per output), an
    /// output marked 0 must be +0 throughout the source: its public run is cleared instead of copied, and a group of eight
    /// outputs with a dead one is copied output by output.
    /// </summary>
    /// <remarks>
    /// A hidden layer trained with SpikingJelly's scheme gets a gradient only for outputs that fired (34 of 100 in the W5
    /// batch): clearing the other rows' runs is a sequential store, where the tiles write every public line in 32-byte
    /// halves. The benchmark that justifies it: <c>VariantBenchmarks</c>, <see cref="KernelVariants.LiveOutputs"/>.
    /// </remarks>
    public static void ToPublic(KernelPath path, ReadOnlySpan<float> source, Span<float> destination, int ins, int outs, int outStride,
        int firstInput, int endInput, int internalFirst = 0, ReadOnlySpan<int> liveOutputs = default)
    {
        if (liveOutputs.IsEmpty)
        {
            Copy(path, source, destination, ins, outs, outStride, firstInput, endInput, toPublic: true, internalFirst);
            return;
        }

        for (var o0 = 0; o0 < outs; o0 += Tile)
        {
            var groupEnd = Math.Min(outs, o0 + Tile);
            if (!liveOutputs[o0..groupEnd].Contains(0))
            {
                Copy(path, source, destination, ins, groupEnd, outStride, firstInput, endInput, toPublic: true, internalFirst, o0);
                continue;
            }

            for (var o = o0; o < groupEnd; o++)
            {
                var run = destination.Slice((o * ins) + firstInput, endInput - firstInput);
                if (liveOutputs[o] == 0)
                {
                    run.Clear();
                    continue;
                }

                CopyColumn(path, source[(((firstInput - internalFirst) * outStride) + o)..], outStride, run);
            }
        }
    }

    /// <summary>
    /// <c>run[i] = column[i * stride]</c>: one output's values from internal rows into its public run, eight at a time
    /// with an AVX2 gather (the live rows of the W5 gradient, against the element loop; LOG.md).
    /// </summary>
    private static unsafe void CopyColumn(KernelPath path, ReadOnlySpan<float> column, int stride, Span<float> run)
    {
        if (run.IsEmpty)
        {
            return;
        }

        _ = column[(run.Length - 1) * stride]; // every gathered element lies within the column's span
        var i = 0;
        if (KernelPaths.AllowsAvx2(path) && run.Length >= Tile)
        {
            fixed (float* from = column)
            fixed (float* to = run)
            {
                var index = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * stride;
                var step = Vector256.Create(Tile * stride);
                for (; i <= run.Length - Tile; i += Tile)
                {
                    Avx.Store(to + i, Avx2.GatherVector256(from, index, sizeof(float)));
                    index += step;
                }
            }
        }

        for (; i < run.Length; i++)
        {
            run[i] = column[i * stride];
        }
    }

    /// <summary>
    /// Copies inputs <c>[firstInput, endInput)</c> of the public layout <paramref name="source"/> (<c>[outs, ins]</c>)
    /// into the internal layout <paramref name="destination"/> (<c>[ins, outStride]</c>); padding columns are written as
    /// zero by the tiles and left alone by the scalar path (either way they stay zero).
    /// </summary>
    public static void ToInternal(KernelPath path, ReadOnlySpan<float> source, Span<float> destination, int ins, int outs, int outStride,
        int firstInput, int endInput) =>
        Copy(path, source, destination, ins, outs, outStride, firstInput, endInput, toPublic: false, internalFirst: 0);

    /// <summary>
    /// Either direction: the same walk, tile or element, with source and destination indices swapped; the internal side
    /// holds the rows of inputs <paramref name="internalFirst"/> on. Outputs <c>[firstOutput, outs)</c> only
    /// (<paramref name="firstOutput"/> a multiple of 8).
    /// </summary>
    private static void Copy(KernelPath path, ReadOnlySpan<float> source, Span<float> destination, int ins, int outs, int outStride,
        int firstInput, int endInput, bool toPublic, int internalFirst, int firstOutput = 0)
    {
        var i0 = firstInput;
        if (UseTiles(path, outStride))
        {
            // Eight public rows at a time over a run of inputs: the rows are in * 4 bytes apart, which for most sizes maps
            // them onto few L1 sets (12544 inputs: 4 of 64), so writing all of them per tile would evict each line
            // between its two 32-byte halves.
            for (; i0 + Run <= endInput; i0 += Run)
            {
                for (var o0 = firstOutput; o0 < outs; o0 += Tile)
                {
                    for (var i = i0; i < i0 + Run; i += Tile)
                    {
                        CopyTile(source, destination, ins, outs, outStride, i, o0, toPublic, internalFirst);
                    }
                }
            }

            for (; i0 + Tile <= endInput; i0 += Tile)
            {
                for (var o0 = firstOutput; o0 < outs; o0 += Tile)
                {
                    CopyTile(source, destination, ins, outs, outStride, i0, o0, toPublic, internalFirst);
                }
            }
        }

        for (; i0 < endInput; i0 += Block)
        {
            var block = Math.Min(Block, endInput - i0);
            for (var o = firstOutput; o < outs; o++)
            {
                for (var i = 0; i < block; i++)
                {
                    var publicAt = (o * ins) + i0 + i;
                    var internalAt = ((i0 + i - internalFirst) * outStride) + o;
                    if (toPublic)
                    {
                        destination[publicAt] = source[internalAt];
                    }
                    else
                    {
                        destination[internalAt] = source[publicAt];
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyTile(ReadOnlySpan<float> source, Span<float> destination, int ins, int outs, int outStride, int i0, int o0, bool toPublic,
        int internalFirst)
    {
        if (toPublic)
        {
            ToPublicTile(source, destination, ins, outs, outStride, i0, o0, internalFirst);
        }
        else
        {
            ToInternalTile(source, destination, ins, outs, outStride, i0, o0);
        }
    }

    /// <summary>Whether the 8 × 8 AVX tiles run: the path allows 256-bit vectors and the stride is whole tiles.</summary>
    private static bool UseTiles(KernelPath path, int outStride) =>
        KernelPaths.AllowsAvx2(path) && outStride % Tile == 0;

    /// <summary>Internal rows <c>i0..i0+7</c> (at <c>i0 - internalFirst</c> in <paramref name="source"/>), columns <c>o0..o0+7</c> into public rows <c>o0..</c> (those below <paramref name="outs"/>), columns <c>i0..i0+7</c>.</summary>
    private static void ToPublicTile(ReadOnlySpan<float> source, Span<float> destination, int ins, int outs, int outStride, int i0, int o0, int internalFirst)
    {
        // Bounds: rows i0..i0+7 exist (i0 + 8 <= ins) and columns o0..o0+7 lie within the stride; checked once here.
        var row = i0 - internalFirst;
        _ = source[(row * outStride) + o0];
        _ = source[((row + Tile - 1) * outStride) + o0 + Tile - 1];
        ref var s = ref Unsafe.Add(ref MemoryMarshal.GetReference(source), (row * outStride) + o0);
        var rows = Math.Min(Tile, outs - o0);
        _ = destination[((o0 + rows - 1) * ins) + i0 + Tile - 1];
        ref var d = ref Unsafe.Add(ref MemoryMarshal.GetReference(destination), (o0 * ins) + i0);
        if (rows == Tile)
        {
            Transpose8(ref s, (nuint)outStride, ref d, (nuint)ins);
            return;
        }

        // The last tile of a width that is not a multiple of 8: only the real outputs have public rows.
        Span<float> tile = stackalloc float[Tile * Tile];
        Transpose8(ref s, (nuint)outStride, ref MemoryMarshal.GetReference(tile), Tile);
        for (var r = 0; r < rows; r++)
        {
            tile.Slice(r * Tile, Tile).CopyTo(destination.Slice(((o0 + r) * ins) + i0, Tile));
        }
    }

    /// <summary>Public rows <c>o0..</c> (those below <paramref name="outs"/>; zeros for the rest), columns <c>i0..i0+7</c>, into internal rows <c>i0..i0+7</c>, columns <c>o0..o0+7</c>.</summary>
    private static void ToInternalTile(ReadOnlySpan<float> source, Span<float> destination, int ins, int outs, int outStride, int i0, int o0)
    {
        var rows = Math.Min(Tile, outs - o0);
        _ = source[((o0 + rows - 1) * ins) + i0 + Tile - 1];
        ref var s = ref Unsafe.Add(ref MemoryMarshal.GetReference(source), (o0 * ins) + i0);
        _ = destination[((i0 + Tile - 1) * outStride) + o0 + Tile - 1];
        ref var d = ref Unsafe.Add(ref MemoryMarshal.GetReference(destination), (i0 * outStride) + o0);
        if (rows == Tile)
        {
            Transpose8(ref s, (nuint)ins, ref d, (nuint)outStride);
            return;
        }

        Span<float> tile = stackalloc float[Tile * Tile];
        tile.Clear();
        for (var r = 0; r < rows; r++)
        {
            source.Slice(((o0 + r) * ins) + i0, Tile).CopyTo(tile.Slice(r * Tile, Tile));
        }

        Transpose8(ref MemoryMarshal.GetReference(tile), Tile, ref d, (nuint)outStride);
    }

    /// <summary>
    /// Transposes the 8 × 8 block of rows <paramref name="sourcePitch"/> floats apart at <paramref name="source"/> into
    /// rows <paramref name="destinationPitch"/> apart at <paramref name="destination"/> (which must not overlap it):
    /// unpacks, in-lane shuffles, then 128-bit lane swaps, all in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8(ref float source, nuint sourcePitch, ref float destination, nuint destinationPitch)
    {
        var r0 = Vector256.LoadUnsafe(ref source);
        var r1 = Vector256.LoadUnsafe(ref source, sourcePitch);
        var r2 = Vector256.LoadUnsafe(ref source, 2 * sourcePitch);
        var r3 = Vector256.LoadUnsafe(ref source, 3 * sourcePitch);
        var r4 = Vector256.LoadUnsafe(ref source, 4 * sourcePitch);
        var r5 = Vector256.LoadUnsafe(ref source, 5 * sourcePitch);
        var r6 = Vector256.LoadUnsafe(ref source, 6 * sourcePitch);
        var r7 = Vector256.LoadUnsafe(ref source, 7 * sourcePitch);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(u0, u4, 0x20).StoreUnsafe(ref destination);
        Avx.Permute2x128(u1, u5, 0x20).StoreUnsafe(ref destination, destinationPitch);
        Avx.Permute2x128(u2, u6, 0x20).StoreUnsafe(ref destination, 2 * destinationPitch);
        Avx.Permute2x128(u3, u7, 0x20).StoreUnsafe(ref destination, 3 * destinationPitch);
        Avx.Permute2x128(u0, u4, 0x31).StoreUnsafe(ref destination, 4 * destinationPitch);
        Avx.Permute2x128(u1, u5, 0x31).StoreUnsafe(ref destination, 5 * destinationPitch);
        Avx.Permute2x128(u2, u6, 0x31).StoreUnsafe(ref destination, 6 * destinationPitch);
        Avx.Permute2x128(u3, u7, 0x31).StoreUnsafe(ref destination, 7 * destinationPitch);
    }
}
