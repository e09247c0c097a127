using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TimingBased.Neurons.Kernels;

/// <summary>
/// The two exponential recurrences over time that turn per-time sums into voltages (forward) and a voltage gradient
/// into per-time gradient planes (backward), in double precision. Three paths each: the definition (scalar), any
/// stride in <see cref="Vector{T}"/> steps, and 16-float rows with the state in registers.
/// </summary>
/// <remarks>
/// Why three: the scalar path is the one machines without vectors run (and the readable statement of the
/// recurrence); the <see cref="Vector{T}"/> path serves every other stride; the 16-float-row path covers the
/// common 9 to 16 outputs and keeps its state in registers instead of a round trip through memory per row (W3's
/// training step; LOG.md). All three do the same
/// double-precision operations in the same order, so their results are bit-identical (tested per path).
/// </remarks>
internal static class Recurrence
{
    /// <summary>
    /// <see cref="Integrate"/> over the sum of the <see cref="Scatter.Banks"/> accumulator planes stored one after the
    /// other in <paramref name="banks"/>: <c>a[t] = ((bank0[t] + bank1[t]) + bank2[t]) + ...</c> in float, in that
    /// order, so the result is bit-identical to adding the banks into the first one and integrating that. For
    /// 16-float rows on 256-bit hardware the sum is formed per row and the recurrence's state stays in registers
    /// (one pass, no state round trip through memory); otherwise the banks are added into the first one (which
    /// is overwritten) and <see cref="Integrate"/> runs.
    /// </summary>
    public static void IntegrateBanks(
        KernelPath path, Span<float> banks, ReadOnlySpan<float> delta, int outStride, double decayA, double decayB, double v0,
        Span<double> state, Span<float> v)
    {
        var plane = v.Length;
        Debug.Assert(banks.Length == Scatter.Banks * plane);
        if (KernelPaths.Allows(path, KernelPath.Vector256) && outStride == RowOps.TileWidth)
        {
            IntegrateBanksVector256Of16(banks, delta, plane, decayA, decayB, v0, v, RowOps.TileWidth);
            return;
        }

        ref var first = ref MemoryMarshal.GetReference(banks);
        var vector = RowOps.UseVector(path, plane);
        for (var bank = 1; bank < Scatter.Banks; bank++)
        {
            RowOps.Add(vector, ref first, ref Unsafe.Add(ref first, bank * plane), plane);
        }

        Integrate(path, banks[..plane], delta, outStride, decayA, decayB, v0, state, v);
    }

    /// <summary>
    /// <see cref="IntegrateBanks"/> for 16-float rows: the four banks summed per row and the state in eight registers,
    /// one pass, against summing the banks first and running <see cref="IntegrateVector"/>, whose state makes a round
    /// trip through memory every row (the W2 forward; LOG.md).
    /// </summary>
    private static void IntegrateBanksVector256Of16(
        ReadOnlySpan<float> banks, ReadOnlySpan<float> delta, int plane, double decayA, double decayB, double v0, Span<float> v, int vStride)
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
        nuint vRow = 0;
        for (nuint row = 0; row < (nuint)plane; row += 2 * half, vRow += (nuint)vStride)
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
            Vector256.Narrow(scale * (a0 - s0), scale * (a1 - s1)).StoreUnsafe(ref rv, vRow);
            Vector256.Narrow(scale * (a2 - s2), scale * (a3 - s3)).StoreUnsafe(ref rv, vRow + half);
        }
    }

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

    /// <summary>
    /// The forward recurrence over time, in double precision:
    /// <c>A = A decayA + a[t]</c>, <c>B = B decayB + a[t] + delta[t]</c>, <c>v[t] = v0 (A - B)</c>, row by row.
    /// </summary>
    /// <param name="path">The widest path to take (see <see cref="KernelPath"/>).</param>
    /// <param name="a">Per-time sums of <c>w exp(-d/tau)</c>, shape <c>[T, outStride]</c>.</param>
    /// <param name="delta">Per-time sums of <c>w (exp(-d/tauS) - exp(-d/tau))</c>, same shape, or empty when all zero.</param>
    /// <param name="outStride">The row length.</param>
    /// <param name="decayA">The per-step decay <c>exp(-1/tau)</c>.</param>
    /// <param name="decayB">The per-step decay <c>exp(-1/tauS)</c>.</param>
    /// <param name="v0">The PSP normalisation.</param>
    /// <param name="state">Scratch of length <c>2 outStride</c>.</param>
    /// <param name="v">Receives the voltages, shape <c>[T, outStride]</c>.</param>
    public static void Integrate(
        KernelPath path, ReadOnlySpan<float> a, ReadOnlySpan<float> delta, int outStride, double decayA, double decayB, double v0,
        Span<double> state, Span<float> v)
    {
        state.Clear();
        var steps = a.Length / outStride;
        var hasDelta = !delta.IsEmpty;
        if (RowOps.UseVector(path, outStride))
        {
            IntegrateVector(a, delta, outStride, decayA, decayB, v0, state, v, steps, hasDelta);
            return;
        }

        IntegrateScalar(a, delta, outStride, decayA, decayB, v0, state, v, steps, hasDelta);
    }

    /// <summary>The scalar path of <see cref="Integrate"/>: <see cref="Step"/> row by row, one output at a time.</summary>
    private static void IntegrateScalar(
        ReadOnlySpan<float> a, ReadOnlySpan<float> delta, int outStride, double decayA, double decayB, double v0,
        Span<double> state, Span<float> v, int steps, bool hasDelta)
    {
        var decay = new PspDecay(decayA, decayB, v0);
        var stateA = state[..outStride];
        var stateB = state.Slice(outStride, outStride);
        for (var t = 0; t < steps; t++)
        {
            Step(false, a.Slice(t * outStride, outStride), hasDelta ? delta.Slice(t * outStride, outStride) : default, stateA, stateB, decay,
                v.Slice(t * outStride, outStride));
        }
    }

    /// <summary>The <see cref="System.Numerics.Vector{T}"/> path of <see cref="Integrate"/>: <see cref="Step"/> in whole vectors, row by row; the state round-trips through memory.</summary>
    private static void IntegrateVector(
        ReadOnlySpan<float> a, ReadOnlySpan<float> delta, int outStride, double decayA, double decayB, double v0,
        Span<double> state, Span<float> v, int steps, bool hasDelta)
    {
        var decay = new PspDecay(decayA, decayB, v0);
        var stateA = state[..outStride];
        var stateB = state.Slice(outStride, outStride);
        for (var t = 0; t < steps; t++)
        {
            Step(true, a.Slice(t * outStride, outStride), hasDelta ? delta.Slice(t * outStride, outStride) : default, stateA, stateB, decay,
                v.Slice(t * outStride, outStride));
        }
    }

    /// <summary>
    /// One step of the forward recurrence over a row of outputs: the formula every forward and the stream compute,
    /// <c>A = A decayA + x</c>, <c>B = B decayB + (x + delta)</c>, <c>v = v0 (A - B)</c>, in double precision and rounded to
    /// float at the end. The register-resident paths (<see cref="IntegrateBanks"/> for 16-float rows, the tile
    /// recurrences) do the same operations per lane.
    /// </summary>
    /// <param name="vector">Whether to take whole <see cref="System.Numerics.Vector{T}"/>s (the row length is then a multiple of <c>Vector&lt;float&gt;.Count</c>); the same bits either way.</param>
    /// <param name="x">This step's sums of <c>w exp(-d/tau)</c>.</param>
    /// <param name="delta">This step's sums of <c>w (exp(-d/tauS) - exp(-d/tau))</c>, or empty when all zero.</param>
    /// <param name="stateA">The state <c>A</c>, updated.</param>
    /// <param name="stateB">The state <c>B</c>, updated.</param>
    /// <param name="decay">The per-step decays and the normalisation.</param>
    /// <param name="v">Receives the voltages.</param>
    public static void Step(bool vector, ReadOnlySpan<float> x, ReadOnlySpan<float> delta, Span<double> stateA, Span<double> stateB,
        in PspDecay decay, Span<float> v)
    {
        var hasDelta = !delta.IsEmpty;
        if (vector)
        {
            StepVector(x, delta, stateA, stateB, decay, v, hasDelta);
            return;
        }

        for (var o = 0; o < v.Length; o++)
        {
            double inA = x[o];
            var sa = (stateA[o] * decay.A) + inA;
            var sb = (stateB[o] * decay.B) + (inA + (hasDelta ? delta[o] : 0.0));
            stateA[o] = sa;
            stateB[o] = sb;
            v[o] = (float)(decay.V0 * (sa - sb));
        }
    }

    /// <summary><see cref="Step"/> in whole <see cref="System.Numerics.Vector{T}"/>s: the same operations per lane.</summary>
    private static void StepVector(ReadOnlySpan<float> x, ReadOnlySpan<float> delta, Span<double> stateA, Span<double> stateB, in PspDecay decay,
        Span<float> v, bool hasDelta)
    {
        ref var rx = ref MemoryMarshal.GetReference(x);
        ref var rd = ref MemoryMarshal.GetReference(delta);
        ref var rv = ref MemoryMarshal.GetReference(v);
        ref var rsA = ref MemoryMarshal.GetReference(stateA);
        ref var rsB = ref MemoryMarshal.GetReference(stateB);
        var da = new Vector<double>(decay.A);
        var db = new Vector<double>(decay.B);
        var scale = new Vector<double>(decay.V0);
        var half = (nuint)Vector<double>.Count;
        for (nuint j = 0; j < (nuint)v.Length; j += (nuint)Vector<float>.Count)
        {
            Vector.Widen(Vector.LoadUnsafe(ref rx, j), out Vector<double> inLo, out Vector<double> inHi);
            var bLo = inLo;
            var bHi = inHi;
            if (hasDelta)
            {
                Vector.Widen(Vector.LoadUnsafe(ref rd, j), out Vector<double> dLo, out Vector<double> dHi);
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
            Vector.Narrow(scale * (saLo - sbLo), scale * (saHi - sbHi)).StoreUnsafe(ref rv, j);
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
        KernelPath path, ReadOnlySpan<float> g, int rows, int outStride, double decayA, double decayB, double v0, double tau, double tauS,
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

        if (KernelPaths.Allows(path, KernelPath.Vector256) && outStride == 2 * Vector256<float>.Count)
        {
            IntegrateBackwardVector256Of16(g, RowOps.TileWidth, decayA, decayB, v0, tau, tauS, ga, gb, gk, gs, rows, all);
            return;
        }

        if (RowOps.UseVector(path, outStride))
        {
            IntegrateBackwardVector(g, outStride, decayA, decayB, v0, tau, tauS, state, ga, gb, gk, gs, rows, all);
            return;
        }

        IntegrateBackwardScalar(g, rows, outStride, decayA, decayB, v0, tau, tauS, state, ga, gb, gk, gs, all);
    }

    /// <summary>
    /// <see cref="IntegrateBackward"/>'s <c>gk</c> for one 16-float column tile of wider rows, rows <c>[0, rows)</c> only:
    /// <paramref name="g"/> and <paramref name="gk"/> start at the tile's first column and rows are
    /// <paramref name="outStride"/> floats apart. Each column gets the operations the whole-row recurrence gives it, so
    /// the values are the same bits. Rows from <paramref name="rows"/> on are not written.
    /// </summary>
    /// <remarks>Precondition: <see cref="Scatter.UseTiles"/>, as for the forward's tile recurrence.</remarks>
    public static void IntegrateBackwardGkOfTile(ReadOnlySpan<float> g, int rows, int outStride, double decayA, double decayB, double v0, Span<float> gk)
    {
        Debug.Assert(outStride % RowOps.TileWidth == 0 && g.Length >= ((rows - 1) * outStride) + RowOps.TileWidth && gk.Length >= g.Length);
        // tau and tauS only scale gs, which is not computed here.
        IntegrateBackwardVector256Of16(g, outStride, decayA, decayB, v0, tau: 1, tauS: 1, default, default, gk, default, rows, all: false);
    }

    /// <summary>The scalar path of <see cref="IntegrateBackward"/>: the definition, one output at a time.</summary>
    private static void IntegrateBackwardScalar(
        ReadOnlySpan<float> g, int rows, int outStride, double decayA, double decayB, double v0, double tau, double tauS,
        Span<double> state, Span<float> ga, Span<float> gb, Span<float> gk, Span<float> gs, bool all)
    {
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

    /// <summary>
    /// The reverse recurrence for 16 floats of rows <paramref name="pitch"/> floats apart, with its state in registers; the same operations as
    /// <see cref="IntegrateBackwardVector"/>, without the memory round trip of the general path's state (W3's training
    /// step; LOG.md).
    /// </summary>
    private static void IntegrateBackwardVector256Of16(
        ReadOnlySpan<float> g, int pitch, double decayA, double decayB, double v0, double tau, double tauS,
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
            var row = (nuint)(t * pitch);
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

    /// <summary>The <see cref="System.Numerics.Vector{T}"/> path of <see cref="IntegrateBackward"/>: any stride that is whole vectors.</summary>
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
