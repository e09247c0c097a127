using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TimingBased.Neurons.Kernels;

// The reverse recurrence: a voltage gradient into the per-time gradient planes of phase 2.
internal static partial class Recurrence
{
    /// <summary>
    /// The reverse recurrence over time, in double precision:
    /// <c>GA[t] = g[t] + decayA GA[t+1]</c>, <c>GB[t] = g[t] + decayB GB[t+1]</c> (<see cref="Step"/> run backwards
    /// over time, without a delta). Writes, each of shape <c>[T, outStride]</c>: <c>gk = v0 (GA - GB)</c>, and
    /// <c>ga = v0 GA</c>, <c>gb = v0 GB</c> and <c>gs = v0 (GA / tau - GB / tauS)</c> (<see cref="GradientPlanes"/>; the
    /// last two are what an integer-time input needs). Without <see cref="ReversePlanes.Ga"/> only
    /// <see cref="ReversePlanes.Gk"/> is written (integer times, no input gradient). Rows of <paramref name="g"/> from <paramref name="rows"/> on must be
    /// zero (a loss gradient is non-zero only up to the latest arg-max): the recurrence starts there and the outputs'
    /// later rows are simply cleared.
    /// </summary>
    public static void IntegrateBackward(
        KernelPath path, ReadOnlySpan<float> g, int rows, int outStride, in PspDecay decay, Span<double> state, in ReversePlanes planes)
    {
        Span<float> ga = planes.Ga, gb = planes.Gb, gk = planes.Gk, gs = planes.Gs;
        var tail = rows * outStride;
        gk[tail..].Clear();
        if (planes.All)
        {
            ga[tail..].Clear();
            gb[tail..].Clear();
            gs[tail..].Clear();
        }

        if (KernelPaths.Allows(path, KernelPath.Vector256) && outStride == RowOps.TileWidth)
        {
            IntegrateBackwardOf16(path, g, rows, RowOps.TileWidth, decay, planes);
            return;
        }

        state.Clear();
        var vector = RowOps.UseVector(path, outStride);
        var stateA = state[..outStride];
        var stateB = state.Slice(outStride, outStride);
        for (var row = (rows - 1) * outStride; row >= 0; row -= outStride)
        {
            Step(vector, g.Slice(row, outStride), default, stateA, stateB, decay, gk.Slice(row, outStride));
            if (planes.All)
            {
                GradientPlanes(vector, stateA, stateB, decay, ga.Slice(row, outStride), gb.Slice(row, outStride), gs.Slice(row, outStride));
            }
        }
    }

    /// <summary>
    /// <see cref="IntegrateBackward"/>'s <c>gk</c> for one 16-float column tile of wider rows, rows <c>[0, rows)</c> only:
    /// <paramref name="g"/> and <paramref name="gk"/> start at the tile's first column and rows are
    /// <paramref name="outStride"/> floats apart. Each column gets the operations the whole-row recurrence gives it, so
    /// the values are the same bits. Rows from <paramref name="rows"/> on are not written.
    /// </summary>
    /// <remarks>Precondition: <see cref="Scatter.UseTiles"/>, as for the forward's tile recurrence.</remarks>
    public static void IntegrateBackwardGkOfTile(KernelPath path, ReadOnlySpan<float> g, int rows, int outStride, in PspDecay decay, Span<float> gk)
    {
        Debug.Assert(outStride % RowOps.TileWidth == 0 && g.Length >= ((rows - 1) * outStride) + RowOps.TileWidth && gk.Length >= g.Length);
        IntegrateBackwardOf16(path, g, rows, outStride, decay, new ReversePlanes(default, default, gk, default));
    }

    /// <summary>The reverse loop over 16-float rows at 512 bits where <paramref name="path"/> allows, else at 256.</summary>
    private static void IntegrateBackwardOf16(KernelPath path, ReadOnlySpan<float> g, int rows, int pitch, in PspDecay decay, in ReversePlanes planes)
    {
        if (KernelPaths.Allows(path, KernelPath.Avx512))
        {
            IntegrateBackwardOf16<RowSums512>(g, rows, pitch, decay, planes);
            return;
        }

        IntegrateBackwardOf16<RowSums256>(g, rows, pitch, decay, planes);
    }

    /// <summary>
    /// The other three planes of the reverse recurrence for one row, from its state after <see cref="Step"/>:
    /// <c>ga = v0 A</c>, <c>gb = v0 B</c>, <c>gs = v0 (A / tau - B / tauS)</c>. <see cref="IRowSums{TSelf}.StoreGradients"/>
    /// is the same for a 16-float row held in registers.
    /// </summary>
    private static void GradientPlanes(bool vector, ReadOnlySpan<double> stateA, ReadOnlySpan<double> stateB, in PspDecay decay,
        Span<float> ga, Span<float> gb, Span<float> gs)
    {
        var n = ga.Length;
        if (stateA.Length < n || stateB.Length < n || gb.Length < n || gs.Length < n || (vector && n % Vector<float>.Count != 0))
        {
            Internal.ThrowHelper.InternalBound("gradient plane lengths"); // the vector body reads and writes by reference
        }

        var o = 0;
        if (vector)
        {
            ref var rsA = ref MemoryMarshal.GetReference(stateA);
            ref var rsB = ref MemoryMarshal.GetReference(stateB);
            var scale = new Vector<double>(decay.V0);
            var invTau = new Vector<double>(decay.InverseTau);
            var invTauS = new Vector<double>(decay.InverseTauS);
            var half = Vector<double>.Count;
            for (; o < n; o += Vector<float>.Count)
            {
                var (aLo, aHi) = (Vector.LoadUnsafe(ref rsA, (nuint)o), Vector.LoadUnsafe(ref rsA, (nuint)(o + half)));
                var (bLo, bHi) = (Vector.LoadUnsafe(ref rsB, (nuint)o), Vector.LoadUnsafe(ref rsB, (nuint)(o + half)));
                Vector.Narrow(scale * aLo, scale * aHi).StoreUnsafe(ref MemoryMarshal.GetReference(ga), (nuint)o);
                Vector.Narrow(scale * bLo, scale * bHi).StoreUnsafe(ref MemoryMarshal.GetReference(gb), (nuint)o);
                Vector.Narrow(scale * ((aLo * invTau) - (bLo * invTauS)), scale * ((aHi * invTau) - (bHi * invTauS)))
                    .StoreUnsafe(ref MemoryMarshal.GetReference(gs), (nuint)o);
            }
        }

        for (; o < n; o++)
        {
            ga[o] = (float)(decay.V0 * stateA[o]);
            gb[o] = (float)(decay.V0 * stateB[o]);
            gs[o] = (float)(decay.V0 * ((stateA[o] * decay.InverseTau) - (stateB[o] * decay.InverseTauS)));
        }
    }

    /// <summary>
    /// The reverse loop over 16-float rows <paramref name="pitch"/> floats apart at the width <typeparamref name="TSums"/>,
    /// from row <c>rows - 1</c> down to 0, with the state in registers.
    /// </summary>
    private static void IntegrateBackwardOf16<TSums>(ReadOnlySpan<float> g, int rows, int pitch, in PspDecay decay, in ReversePlanes planes)
        where TSums : struct, IRowSums<TSums>
    {
        ref var rg = ref MemoryMarshal.GetReference(g);
        ref var rga = ref MemoryMarshal.GetReference(planes.Ga);
        ref var rgb = ref MemoryMarshal.GetReference(planes.Gb);
        ref var rgk = ref MemoryMarshal.GetReference(planes.Gk);
        ref var rgs = ref MemoryMarshal.GetReference(planes.Gs);
        var all = planes.All;
        var reach = rows > 0 ? ((rows - 1) * pitch) + RowOps.TileWidth : 0;
        if (g.Length < reach || planes.Gk.Length < reach || (all && (planes.Ga.Length < reach || planes.Gb.Length < reach || planes.Gs.Length < reach)))
        {
            Internal.ThrowHelper.InternalBound("16-float reverse rows"); // the loop reads and writes by reference
        }

        var sums = TSums.Start(decay);
        for (var t = rows - 1; t >= 0; t--)
        {
            var row = (nuint)(t * pitch);
            sums.Step(ref rg, row);
            sums.StoreDifference(ref rgk, row);
            if (all)
            {
                sums.StoreGradients(ref rga, ref rgb, ref rgs, row);
            }
        }
    }

    /// <summary>
    /// The planes the reverse recurrence writes, each <c>[T, outStride]</c>; <see cref="Ga"/>, <see cref="Gb"/> and
    /// <see cref="Gs"/> empty when only <see cref="Gk"/> is wanted.
    /// </summary>
    public readonly ref struct ReversePlanes(Span<float> ga, Span<float> gb, Span<float> gk, Span<float> gs)
    {
        /// <summary>Gets <c>v0 GA</c>, or empty.</summary>
        public Span<float> Ga { get; } = ga;

        /// <summary>Gets <c>v0 GB</c>, or empty with <see cref="Ga"/>.</summary>
        public Span<float> Gb { get; } = gb;

        /// <summary>Gets <c>v0 (GA - GB)</c>.</summary>
        public Span<float> Gk { get; } = gk;

        /// <summary>Gets <c>v0 (GA / tau - GB / tauS)</c>, or empty with <see cref="Ga"/>.</summary>
        public Span<float> Gs { get; } = gs;

        /// <summary>Gets whether all four planes are wanted.</summary>
        public bool All => !Ga.IsEmpty;
    }
}
