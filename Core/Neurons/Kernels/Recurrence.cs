using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TimingBased.Neurons.Kernels;

/// <summary>
/// The two exponential recurrences over time that turn per-time sums into voltages (forward) and a voltage gradient
/// into per-time gradient planes (backward), in double precision. <see cref="Step"/> is the one statement of a step
/// (a scalar and a <see cref="Vector{T}"/> body, for any row length); <see cref="IRowSums{TSelf}"/> is its body for a
/// 16-float row held in registers, at 256 or 512 bits.
/// </summary>
/// <remarks>
/// Why two forms: the general loop keeps the state in memory and serves every row length; the 16-float rows (the
/// common 9 to 16 outputs, and each column tile of a wider layer) keep the state in registers instead of a round trip
/// through memory per row. The benchmark that justifies the register form: <c>ForwardBenchmarks.EventDriven</c> (W2)
/// and <c>TrainingBenchmarks.EventDriven</c> (W3). Every form does the same double-precision operations in the same
/// order, so their results are bit-identical (tested per path).
/// </remarks>
internal static partial class Recurrence
{
    /// <summary>
    /// <see cref="Integrate"/> over the sum of the <see cref="Scatter.Banks"/> accumulator planes stored one after the
    /// other in <paramref name="banks"/>: <c>a[t] = ((bank0[t] + bank1[t]) + bank2[t]) + ...</c> in float, in that
    /// order, so the result is bit-identical to adding the banks into the first one and integrating that. For
    /// 16-float rows on 256-bit hardware the sum is formed per row and the recurrence's state stays in registers
    /// (<see cref="IntegrateBanksOf16{TSums}"/>); otherwise the banks are added into the first one (which is
    /// overwritten) and <see cref="Integrate"/> runs.
    /// </summary>
    public static void IntegrateBanks(
        KernelPath path, Span<float> banks, ReadOnlySpan<float> delta, int outStride, in PspDecay decay, Span<double> state, Span<float> v)
    {
        var plane = v.Length;
        Debug.Assert(banks.Length == Scatter.Banks * plane);
        if (KernelPaths.Allows(path, KernelPath.Vector256) && outStride == RowOps.TileWidth)
        {
            IntegrateBanksOf16(path, banks, delta, decay, v, RowOps.TileWidth);
            return;
        }

        ref var first = ref MemoryMarshal.GetReference(banks);
        var vector = RowOps.UseVector(path, plane);
        for (var bank = 1; bank < Scatter.Banks; bank++)
        {
            RowOps.Add(vector, ref first, ref Unsafe.Add(ref first, bank * plane), plane);
        }

        Integrate(path, banks[..plane], delta, outStride, decay, state, v);
    }

    /// <summary>
    /// The forward recurrence over time, in double precision:
    /// <c>A = A decayA + a[t]</c>, <c>B = B decayB + a[t] + delta[t]</c>, <c>v[t] = v0 (A - B)</c>, row by row
    /// (<see cref="Step"/>).
    /// </summary>
    /// <param name="path">The widest path to take (see <see cref="KernelPath"/>).</param>
    /// <param name="a">Per-time sums of <c>w exp(-d/tau)</c>, shape <c>[T, outStride]</c>.</param>
    /// <param name="delta">Per-time sums of <c>w (exp(-d/tauS) - exp(-d/tau))</c>, same shape, or empty when all zero.</param>
    /// <param name="outStride">The row length.</param>
    /// <param name="decay">The per-step decays and the normalisation.</param>
    /// <param name="state">Scratch of length <c>2 outStride</c>.</param>
    /// <param name="v">Receives the voltages, shape <c>[T, outStride]</c>.</param>
    public static void Integrate(
        KernelPath path, ReadOnlySpan<float> a, ReadOnlySpan<float> delta, int outStride, in PspDecay decay, Span<double> state, Span<float> v)
    {
        state.Clear();
        var vector = RowOps.UseVector(path, outStride);
        var stateA = state[..outStride];
        var stateB = state.Slice(outStride, outStride);
        for (var row = 0; row < a.Length; row += outStride)
        {
            Step(vector, a.Slice(row, outStride), delta.IsEmpty ? default : delta.Slice(row, outStride), stateA, stateB, decay, v.Slice(row, outStride));
        }
    }

    /// <summary>
    /// One step of the recurrence over a row of outputs: the formula every forward, the stream and the reverse
    /// recurrence compute, <c>A = A decayA + x</c>, <c>B = B decayB + (x + delta)</c>, <c>v = v0 (A - B)</c>, in double
    /// precision and rounded to float at the end (without <paramref name="delta"/>, <c>B</c>'s input is <c>x</c>
    /// itself). <see cref="IRowSums{TSelf}"/> is the same step for a 16-float row held in registers.
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
            var sb = (stateB[o] * decay.B) + (hasDelta ? inA + delta[o] : inA);
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
