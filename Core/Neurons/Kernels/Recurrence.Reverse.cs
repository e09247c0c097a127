using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TimingBased.Neurons.Kernels;

// The reverse recurrence: a voltage gradient into the per-time gradient planes of phase 2.
internal static partial class Recurrence
{
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
