using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TimingBased.Neurons.Kernels;

// The forward recurrence over one 16-float column tile of a wider layer (the grouped forward), alone or for two
// samples, with the peaks.
internal static partial class Recurrence
{
    /// <summary>
    /// <see cref="IntegrateBanks"/> for one 16-float column tile of a wider layer (no fractional times): the four
    /// <c>[T, 16]</c> banks in <paramref name="banks"/>, and the voltages written into the tile's columns of
    /// <paramref name="v"/>, whose rows are <paramref name="vStride"/> floats apart (<paramref name="v"/> starts at the
    /// tile's first column). Each column gets the bits the full-width recurrence gives it.
    /// </summary>
    /// <remarks>Precondition: <see cref="Scatter.UseTiles"/>; <paramref name="v"/> holds <c>(T - 1) vStride + 16</c> floats.</remarks>
    public static void IntegrateBanksOfTile(KernelPath path, ReadOnlySpan<float> banks, double decayA, double decayB, double v0, Span<float> v, int vStride)
    {
        var plane = banks.Length / Scatter.Banks;
        if (v.Length < ((plane / RowOps.TileWidth) - 1) * vStride + RowOps.TileWidth)
        {
            Internal.ThrowHelper.InternalBound("tile voltages");
        }

        if (KernelPaths.Allows(path, KernelPath.Avx512))
        {
            IntegrateBanksAvx512Of16(banks, plane, decayA, decayB, v0, v, vStride);
            return;
        }

        IntegrateBanksVector256Of16(banks, default, plane, decayA, decayB, v0, v, vStride);
    }

    /// <summary>The tile recurrence with one 512-bit vector per row (two of doubles): half the instructions of the 256-bit path, same operations per lane.</summary>
    private static void IntegrateBanksAvx512Of16(ReadOnlySpan<float> banks, int plane, double decayA, double decayB, double v0, Span<float> v, int vStride)
    {
        ref var b0 = ref MemoryMarshal.GetReference(banks);
        ref var b1 = ref Unsafe.Add(ref b0, plane);
        ref var b2 = ref Unsafe.Add(ref b0, 2 * plane);
        ref var b3 = ref Unsafe.Add(ref b0, 3 * plane);
        ref var rv = ref MemoryMarshal.GetReference(v);
        var da = Vector512.Create(decayA);
        var db = Vector512.Create(decayB);
        var scale = Vector512.Create(v0);
        Vector512<double> a0 = default, a1 = default, s0 = default, s1 = default;
        nuint vRow = 0;
        for (nuint row = 0; row < (nuint)plane; row += 16, vRow += (nuint)vStride)
        {
            var x = ((Vector512.LoadUnsafe(ref b0, row) + Vector512.LoadUnsafe(ref b1, row)) + Vector512.LoadUnsafe(ref b2, row)) + Vector512.LoadUnsafe(ref b3, row);
            var (x0, x1) = Vector512.Widen(x);
            a0 = (a0 * da) + x0;
            a1 = (a1 * da) + x1;
            s0 = (s0 * db) + x0;
            s1 = (s1 * db) + x1;
            Vector512.Narrow(scale * (a0 - s0), scale * (a1 - s1)).StoreUnsafe(ref rv, vRow);
        }
    }

    /// <summary>
    /// One sample's tile, the three steps <see cref="IntegrateTilePairWithPeaks"/> fuses: <see cref="IntegrateBanksOfTile"/>
    /// of <paramref name="banks"/> into <paramref name="v"/> (<c>[T, 16]</c>, rows 16 floats apart), its peaks by
    /// <see cref="RowOps.MaxAndArgMax"/>, and the banks cleared for the next tile.
    /// </summary>
    /// <remarks>Precondition: <see cref="Scatter.UseTiles"/>.</remarks>
    public static void IntegrateTileWithPeaks(KernelPath path, Span<float> banks, double decayA, double decayB, double v0,
        Span<float> v, Span<float> max, Span<int> argMax)
    {
        var plane = banks.Length / Scatter.Banks;
        IntegrateBanksOfTile(path, banks, decayA, decayB, v0, v, RowOps.TileWidth);
        banks.Clear();
        RowOps.MaxAndArgMax(RowOps.UseVector(path, RowOps.TileWidth), v[..plane], RowOps.TileWidth, max, argMax);
    }

    /// <summary>
    /// <see cref="IntegrateBanksOfTile"/> for two samples' tiles at once (<paramref name="banksA"/> into
    /// <paramref name="vA"/>, <paramref name="banksB"/> into <paramref name="vB"/>, both <c>[T, 16]</c> with rows 16 floats
    /// apart), each followed by its peaks as <see cref="RowOps.MaxAndArgMax"/> gives them (the maximum over time and its
    /// first step, per column), and the banks left all zero for the next tile. Same bits as those three steps apart.
    /// </summary>
    /// <remarks>
    /// Each recurrence is one long chain of dependent double-precision steps; two independent chains in one loop, with
    /// the running maximum beside them, overlap where one call after the other waits on each step. Precondition:
    /// <see cref="Scatter.UseTiles"/>; four banks of <c>[T, 16]</c> each.
    /// </remarks>
    public static void IntegrateTilePairWithPeaks(KernelPath path, Span<float> banksA, Span<float> banksB, double decayA, double decayB, double v0,
        Span<float> vA, Span<float> vB, Span<float> maxA, Span<int> argMaxA, Span<float> maxB, Span<int> argMaxB)
    {
        const int width = RowOps.TileWidth;
        var plane = banksA.Length / Scatter.Banks;
        if (banksB.Length != banksA.Length || vA.Length < plane || vB.Length < plane || plane < width
            || maxA.Length < width || argMaxA.Length < width || maxB.Length < width || argMaxB.Length < width)
        {
            Internal.ThrowHelper.InternalBound("tile pair");
        }

        if (!KernelPaths.Allows(path, KernelPath.Avx512))
        {
            IntegrateTileWithPeaks(path, banksA, decayA, decayB, v0, vA, maxA, argMaxA);
            IntegrateTileWithPeaks(path, banksB, decayA, decayB, v0, vB, maxB, argMaxB);
            return;
        }

        ref var a0 = ref MemoryMarshal.GetReference(banksA);
        ref var a1 = ref Unsafe.Add(ref a0, plane);
        ref var a2 = ref Unsafe.Add(ref a0, 2 * plane);
        ref var a3 = ref Unsafe.Add(ref a0, 3 * plane);
        ref var b0 = ref MemoryMarshal.GetReference(banksB);
        ref var b1 = ref Unsafe.Add(ref b0, plane);
        ref var b2 = ref Unsafe.Add(ref b0, 2 * plane);
        ref var b3 = ref Unsafe.Add(ref b0, 3 * plane);
        ref var va = ref MemoryMarshal.GetReference(vA);
        ref var vb = ref MemoryMarshal.GetReference(vB);
        var da = Vector512.Create(decayA);
        var db = Vector512.Create(decayB);
        var scale = Vector512.Create(v0);
        Vector512<double> aA0 = default, aA1 = default, sA0 = default, sA1 = default;
        Vector512<double> aB0 = default, aB1 = default, sB0 = default, sB1 = default;
        Vector512<float> bestA = default, bestB = default;
        Vector512<int> argA = default, argB = default;
        var step = 0;
        for (nuint row = 0; row < (nuint)plane; row += width, step++)
        {
            var xA = ((Vector512.LoadUnsafe(ref a0, row) + Vector512.LoadUnsafe(ref a1, row)) + Vector512.LoadUnsafe(ref a2, row)) + Vector512.LoadUnsafe(ref a3, row);
            var xB = ((Vector512.LoadUnsafe(ref b0, row) + Vector512.LoadUnsafe(ref b1, row)) + Vector512.LoadUnsafe(ref b2, row)) + Vector512.LoadUnsafe(ref b3, row);
            Vector512<float>.Zero.StoreUnsafe(ref a0, row);
            Vector512<float>.Zero.StoreUnsafe(ref a1, row);
            Vector512<float>.Zero.StoreUnsafe(ref a2, row);
            Vector512<float>.Zero.StoreUnsafe(ref a3, row);
            Vector512<float>.Zero.StoreUnsafe(ref b0, row);
            Vector512<float>.Zero.StoreUnsafe(ref b1, row);
            Vector512<float>.Zero.StoreUnsafe(ref b2, row);
            Vector512<float>.Zero.StoreUnsafe(ref b3, row);
            var (xA0, xA1) = Vector512.Widen(xA);
            var (xB0, xB1) = Vector512.Widen(xB);
            aA0 = (aA0 * da) + xA0;
            aA1 = (aA1 * da) + xA1;
            sA0 = (sA0 * db) + xA0;
            sA1 = (sA1 * db) + xA1;
            aB0 = (aB0 * da) + xB0;
            aB1 = (aB1 * da) + xB1;
            sB0 = (sB0 * db) + xB0;
            sB1 = (sB1 * db) + xB1;
            var vRowA = Vector512.Narrow(scale * (aA0 - sA0), scale * (aA1 - sA1));
            var vRowB = Vector512.Narrow(scale * (aB0 - sB0), scale * (aB1 - sB1));
            vRowA.StoreUnsafe(ref va, row);
            vRowB.StoreUnsafe(ref vb, row);
            if (step == 0)
            {
                (bestA, bestB) = (vRowA, vRowB);
                continue;
            }

            // Strict: ties keep the first step, as RowOps.MaxAndArgMax.
            var greaterA = Vector512.GreaterThan(vRowA, bestA);
            var greaterB = Vector512.GreaterThan(vRowB, bestB);
            var stepVector = Vector512.Create(step);
            bestA = Vector512.ConditionalSelect(greaterA, vRowA, bestA);
            bestB = Vector512.ConditionalSelect(greaterB, vRowB, bestB);
            argA = Vector512.ConditionalSelect(greaterA.AsInt32(), stepVector, argA);
            argB = Vector512.ConditionalSelect(greaterB.AsInt32(), stepVector, argB);
        }

        bestA.StoreUnsafe(ref MemoryMarshal.GetReference(maxA));
        bestB.StoreUnsafe(ref MemoryMarshal.GetReference(maxB));
        argA.StoreUnsafe(ref MemoryMarshal.GetReference(argMaxA));
        argB.StoreUnsafe(ref MemoryMarshal.GetReference(argMaxB));
    }
}
