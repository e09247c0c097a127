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
/// training step; LOG.md). All three do the same double-precision operations in the same order, so their results
/// are bit-identical (tested per path). <see cref="Step"/> is the one statement of a forward step.
/// </remarks>
internal static partial class Recurrence
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
        var n = v.Length;
        if (x.Length < n || stateA.Length < n || stateB.Length < n || (hasDelta && delta.Length < n) || (vector && n % Vector<float>.Count != 0))
        {
            Internal.ThrowHelper.InternalBound("recurrence step lengths"); // the vector body reads and writes by reference
        }

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

}
