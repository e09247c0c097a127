using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TimingBased.Neurons.Kernels;

// The forward recurrence over 16-float rows with its state in registers: a layer of 9 to 16 outputs, or one column
// tile of a wider layer (the grouped forward), alone or for two samples, with the peaks.
internal static partial class Recurrence
{
    /// <summary>The forward loop over 16-float rows at 512 bits where <paramref name="path"/> allows, else at 256.</summary>
    private static void IntegrateBanksOf16(KernelPath path, ReadOnlySpan<float> banks, ReadOnlySpan<float> delta, in PspDecay decay, Span<float> v, int vStride)
    {
        if (KernelPaths.Allows(path, KernelPath.Avx512))
        {
            IntegrateBanksOf16<RowSums512>(banks, delta, decay, v, vStride);
            return;
        }

        IntegrateBanksOf16<RowSums256>(banks, delta, decay, v, vStride);
    }

    /// <summary>
    /// The forward loop over 16-float rows at the width <typeparamref name="TSums"/>: per row, the four banks'
    /// sum (and <paramref name="delta"/> when not empty) into the sums, and <c>V0 (A - B)</c> stored into
    /// <paramref name="v"/>, whose rows are <paramref name="vStride"/> floats apart.
    /// </summary>
    private static void IntegrateBanksOf16<TSums>(ReadOnlySpan<float> banks, ReadOnlySpan<float> delta, in PspDecay decay, Span<float> v, int vStride)
        where TSums : struct, IRowSums<TSums>
    {
        var plane = (nuint)(banks.Length / Scatter.Banks);
        ref var bank0 = ref MemoryMarshal.GetReference(banks);
        ref var rd = ref MemoryMarshal.GetReference(delta);
        ref var rv = ref MemoryMarshal.GetReference(v);
        var hasDelta = !delta.IsEmpty;
        if (banks.Length % (Scatter.Banks * RowOps.TileWidth) != 0 || (hasDelta && delta.Length < (int)plane)
            || (plane > 0 && v.Length < ((((int)plane / RowOps.TileWidth) - 1) * vStride) + RowOps.TileWidth))
        {
            Internal.ThrowHelper.InternalBound("16-float rows"); // the loop reads and writes by reference
        }

        var sums = TSums.Start(decay);
        nuint vRow = 0;
        for (nuint row = 0; row < plane; row += RowOps.TileWidth, vRow += (nuint)vStride)
        {
            sums.StepBanks(ref bank0, plane, row, ref rd, hasDelta);
            sums.StoreDifference(ref rv, vRow);
        }
    }

    /// <summary>
    /// <see cref="IntegrateBanks"/> for one 16-float column tile of a wider layer (no fractional times): the four
    /// <c>[T, 16]</c> banks in <paramref name="banks"/>, and the voltages written into the tile's columns of
    /// <paramref name="v"/>, whose rows are <paramref name="vStride"/> floats apart (<paramref name="v"/> starts at the
    /// tile's first column). Each column gets the bits the full-width recurrence gives it.
    /// </summary>
    /// <remarks>Precondition: <see cref="Scatter.UseTiles"/>; <paramref name="v"/> holds <c>(T - 1) vStride + 16</c> floats.</remarks>
    public static void IntegrateBanksOfTile(KernelPath path, ReadOnlySpan<float> banks, in PspDecay decay, Span<float> v, int vStride)
    {
        IntegrateBanksOf16(path, banks, default, decay, v, vStride);
    }

    /// <summary>
    /// One sample's tile, the three steps <see cref="IntegrateTilePairWithPeaks"/> fuses: <see cref="IntegrateBanksOfTile"/>
    /// of <paramref name="banks"/> into <paramref name="v"/> (<c>[T, 16]</c>, rows 16 floats apart), its peaks by
    /// <see cref="RowOps.MaxAndArgMax"/>, and the banks cleared for the next tile.
    /// </summary>
    /// <remarks>Precondition: <see cref="Scatter.UseTiles"/>.</remarks>
    public static void IntegrateTileWithPeaks(KernelPath path, Span<float> banks, in PspDecay decay, Span<float> v, Span<float> max, Span<int> argMax)
    {
        var plane = banks.Length / Scatter.Banks;
        IntegrateBanksOfTile(path, banks, decay, v, RowOps.TileWidth);
        banks.Clear();
        RowOps.MaxAndArgMax(RowOps.UseVector(path, RowOps.TileWidth), v[..plane], RowOps.TileWidth, max, argMax);
    }

    /// <summary>
    /// <see cref="IntegrateBanksOfTile"/> for two samples' tiles at once (<see cref="TilePair.BanksA"/> into
    /// <see cref="TilePair.VA"/>, <see cref="TilePair.BanksB"/> into <see cref="TilePair.VB"/>, both <c>[T, 16]</c> with
    /// rows 16 floats apart), each followed by its peaks as <see cref="RowOps.MaxAndArgMax"/> gives them (the maximum over time and its
    /// first step, per column), and the banks left all zero for the next tile. Same bits as those three steps apart.
    /// </summary>
    /// <remarks>
    /// Each recurrence is one long chain of dependent double-precision steps; two independent chains in one loop, with
    /// the running maximum beside them, overlap where one call after the other waits on each step. On AVX-512 only
    /// (two 256-bit states would not fit the sixteen 256-bit registers); elsewhere one tile after the other. The
    /// benchmark that justifies it: <c>VariantBenchmarks</c>, <see cref="KernelVariants.Pairs"/>. Precondition:
    /// <see cref="Scatter.UseTiles"/>; four banks of <c>[T, 16]</c> each.
    /// </remarks>
    public static void IntegrateTilePairWithPeaks(KernelPath path, in TilePair pair, in PspDecay decay)
    {
        const int width = RowOps.TileWidth;
        var plane = pair.BanksA.Length / Scatter.Banks;
        if (pair.BanksB.Length != pair.BanksA.Length || pair.VA.Length < plane || pair.VB.Length < plane || plane < width
            || pair.MaxA.Length < width || pair.ArgMaxA.Length < width || pair.MaxB.Length < width || pair.ArgMaxB.Length < width)
        {
            Internal.ThrowHelper.InternalBound("tile pair");
        }

        if (!KernelPaths.Allows(path, KernelPath.Avx512))
        {
            IntegrateTileWithPeaks(path, pair.BanksA, decay, pair.VA, pair.MaxA, pair.ArgMaxA);
            IntegrateTileWithPeaks(path, pair.BanksB, decay, pair.VB, pair.MaxB, pair.ArgMaxB);
            return;
        }

        ref var banksA = ref MemoryMarshal.GetReference(pair.BanksA);
        ref var banksB = ref MemoryMarshal.GetReference(pair.BanksB);
        ref var va = ref MemoryMarshal.GetReference(pair.VA);
        ref var vb = ref MemoryMarshal.GetReference(pair.VB);
        var sumsA = RowSums512.Start(decay);
        var sumsB = RowSums512.Start(decay);
        Vector512<float> bestA = default, bestB = default;
        Vector512<int> argA = default, argB = default;
        var step = 0;
        for (nuint row = 0; row < (nuint)plane; row += width, step++)
        {
            sumsA.StepBanksAndClear(ref banksA, (nuint)plane, row);
            sumsB.StepBanksAndClear(ref banksB, (nuint)plane, row);
            var vRowA = sumsA.Difference;
            var vRowB = sumsB.Difference;
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

        bestA.StoreUnsafe(ref MemoryMarshal.GetReference(pair.MaxA));
        bestB.StoreUnsafe(ref MemoryMarshal.GetReference(pair.MaxB));
        argA.StoreUnsafe(ref MemoryMarshal.GetReference(pair.ArgMaxA));
        argB.StoreUnsafe(ref MemoryMarshal.GetReference(pair.ArgMaxB));
    }

    /// <summary>What <see cref="IntegrateTilePairWithPeaks"/> reads and writes: each sample's banks, tile voltages and peaks.</summary>
    /// <param name="BanksA">The first sample's four banks of <c>[T, 16]</c>; left all zero.</param>
    /// <param name="BanksB">The second sample's banks.</param>
    /// <param name="VA">Receives the first sample's tile voltages, <c>[T, 16]</c>.</param>
    /// <param name="VB">Receives the second sample's tile voltages.</param>
    /// <param name="MaxA">Receives the first sample's 16 maxima over time.</param>
    /// <param name="ArgMaxA">Receives the first step of each maximum.</param>
    /// <param name="MaxB">Receives the second sample's maxima.</param>
    /// <param name="ArgMaxB">Receives the second sample's steps.</param>
    public readonly ref struct TilePair(
        Span<float> BanksA, Span<float> BanksB, Span<float> VA, Span<float> VB, Span<float> MaxA, Span<int> ArgMaxA, Span<float> MaxB, Span<int> ArgMaxB)
    {
        public Span<float> BanksA { get; } = BanksA;

        public Span<float> BanksB { get; } = BanksB;

        public Span<float> VA { get; } = VA;

        public Span<float> VB { get; } = VB;

        public Span<float> MaxA { get; } = MaxA;

        public Span<int> ArgMaxA { get; } = ArgMaxA;

        public Span<float> MaxB { get; } = MaxB;

        public Span<int> ArgMaxB { get; } = ArgMaxB;
    }
}
