using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TimingBased.Internal;
using TimingBased.Neurons.Kernels;
using TimingBased.Optimizers;

namespace TimingBased.Neurons;

// Phase 2 of the backward: the weight gradient, per range of inputs, summed over the batch in sample order.
public sealed partial class Tempotron
{
    /// <summary>Phase-2 ranges per thread when the batch runs in parallel (contiguous input ranges, evened out over the pool).</summary>
    private const int GradientRangesPerThread = 4;

    /// <summary>
    /// Inputs per block of phase 2 at least: fewer, and each sample's call per block (its list cursor, its planes, the
    /// kernel's dispatch) costs more than its spikes' additions.
    /// </summary>
    private const int MinGradientBlock = 256;

    /// <summary>
    /// The most bytes of <c>dW</c> rows a block takes beyond <see cref="MinGradientBlock"/> rows: 32 KB stay in L1 (48 KB
    /// here) while every sample adds to them. For 16-float rows that is 512 inputs, which the W3 step prefers to 256;
    /// rows of 112 floats keep 256 inputs (112 KB, in L2; smaller blocks measured alike on the W5 chain; LOG.md).
    /// </summary>
    private const int GradientBlockBytes = 32 * 1024;

    /// <summary>Inputs per block of phase 2 for this layer's rows: see <see cref="MinGradientBlock"/> and <see cref="GradientBlockBytes"/>.</summary>
    private int GradientBlock => Math.Max(MinGradientBlock, GradientBlockBytes / (_outStride * sizeof(float)));

    /// <summary>
    /// Phase 2: <c>dW</c> rows for inputs in range <paramref name="range"/> of <paramref name="ranges"/>. The range is
    /// walked in blocks of <see cref="GradientBlock"/> inputs; within a block, samples add their spikes in order, so
    /// each element is summed over the batch in sample order whatever the partition. Each block is cleared, filled
    /// and checked for non-finite values while it is in L1; the first bad internal index (or -1) goes to the
    /// range's slot after the per-sample statistics, and the largest magnitude (its float bits) to the range's slot
    /// after those: the optimizer's bound (see <see cref="Optimizers.UpdateBounds"/>).
    /// </summary>
    /// <remarks>
    /// <para>
    /// With <paramref name="update"/> (a training step whose update was proven finite, see
    /// <see cref="BeginUpdateInPhase2"/>) each block is summed in this thread's block scratch and the optimizer's
    /// update of its weights written at once: no whole-gradient buffer, and no separate optimizer pass over it.
    /// </para>
    /// <para>
    /// For a public backward (<c>spans.PublicWeightGradient</c> set) the block's rows live in this thread's block scratch
    /// and are copied to the caller's <c>[out, in]</c> gradient as soon as they are summed: no internal-layout gradient
    /// of the whole matrix is written and read back (5.6 MB for 12544 × 100), and no check (the public call returns
    /// what it computes).
    /// </para>
    /// </remarks>
    private void AccumulateWeightGradient(int range, int ranges, in BatchSpans spans, int batchSize, IChunkedOptimizer? update, long phase)
    {
        var os = _outStride;
        var first = (int)((long)InFeatures * range / ranges);
        var end = (int)((long)InFeatures * (range + 1) / ranges);

        // Each sample's list position at `first`: where this thread's previous range of the same phase 2 stopped (a
        // thread takes its home ranges in order), otherwise found by binary search (at two threads the searches are
        // mostly cache misses in lists the other core wrote).
        var scratch = Scratch.Current;
        var cursors = scratch.Gradient.Ints(batchSize)[..batchSize];
        if (scratch.Phase2 != (phase, range))
        {
            for (var b = 0; b < batchSize; b++)
            {
                var list = new SpikeListBlock(spans.SpikeLists, b, InFeatures);
                cursors[b] = first == 0 ? 0 : LowerBound(list.Indices[..list.Count], first << list.PackShift);
            }
        }

        AssertCursorsAt(first, cursors, spans.SpikeLists, batchSize);

        var firstNonFinite = -1;
        var maxAbs = 0f;
        var toPublic = !spans.PublicWeightGradient.IsEmpty;
        var inScratch = toPublic || update is not null;
        var block = GradientBlock;
        var blockScratch = inScratch ? scratch.Gradient.Floats(block * os) : default;
        for (var blockStart = first; blockStart < end; blockStart += block)
        {
            var blockEnd = Math.Min(end, blockStart + block);
            var rows = inScratch ? blockScratch[..((blockEnd - blockStart) * os)] : spans.WeightGradient.Slice(blockStart * os, (blockEnd - blockStart) * os);
            rows.Clear();
            for (var b = 0; b < batchSize; b++)
            {
                cursors[b] = AccumulateSample(b, cursors[b], blockStart, blockEnd, rows, spans);
            }

            if (update is not null)
            {
                // The step began in BackwardCore with every value proven finite: write it while the block is in L1.
                update.CommitChunk(Parameters.Slice(blockStart * os, rows.Length), rows, blockStart * os);
            }
            else if (toPublic)
            {
                LayoutTranspose.ToPublic(Path, rows, spans.PublicWeightGradient, InFeatures, OutFeatures, os, blockStart, blockEnd, internalFirst: blockStart,
                    liveOutputs: spans.LiveOutputs);
            }
            else if (firstNonFinite < 0)
            {
                maxAbs = Math.Max(maxAbs, SpanChecks.MaxAbs(rows, out var bad));
                firstNonFinite = bad < 0 ? -1 : (blockStart * os) + bad;
            }
        }

        scratch.Phase2 = (phase, range + 1); // the cursors now stand at `end`
        spans.RangeResults[range] = firstNonFinite;
        spans.RangeResults[ranges + range] = BitConverter.SingleToInt32Bits(maxAbs);
    }

    /// <summary>
    /// Adds sample <paramref name="b"/>'s contribution to the <c>dW</c> rows of its spiking inputs from position
    /// <paramref name="cursor"/> of its spike list up to input <paramref name="end"/>; returns the next position.
    /// <paramref name="dW"/> holds the rows of inputs <paramref name="firstRow"/> to <paramref name="end"/>.
    /// </summary>
    private int AccumulateSample(int b, int cursor, int firstRow, int end, Span<float> dW, in BatchSpans spans)
    {
        var os = _outStride;
        var plane = T * os;
        ref var dWRef = ref MemoryMarshal.GetReference(dW);
        var list = new SpikeListBlock(spans.SpikeLists, b, InFeatures);
        var indices = list.Indices;
        var last = list.Count - 1;
        var planes = new SamplePlanes(spans.BackwardPlanes, b, plane);
        ref var gk = ref MemoryMarshal.GetReference(planes.Gk);
        var k = cursor;
        if (list.PackShift > 0)
        {
            return AccumulateIntegerTimes(list.Packed, k, firstRow, end, ref dWRef, ref gk, list.LiveTiles);
        }

        if (list.IntegerTimes)
        {
            // All times are integers in [0, T): c = s, d = 0, and the times list holds c.
            return AccumulateIntegerTimes(list.Lists, k, firstRow, end, ref dWRef, ref gk, list.LiveTiles);
        }

        var row = spans.Input.Slice(b * InFeatures, InFeatures);
        var vector = RowOps.UseVector(Path, os);
        float window = list.LiveRows; // from this step on the planes are zero
        for (; k <= last; k++)
        {
            var i = indices[k];
            if (i >= end)
            {
                break;
            }

            var s = row[i];
            var c = MathF.Ceiling(s);
            if (c >= window)
            {
                continue;
            }

            var d = c - s;
            if (d == 0f)
            {
                RowOps.Add(vector, ref Unsafe.Add(ref dWRef, (i - firstRow) * os), ref Unsafe.Add(ref gk, (int)c * os), os);
                continue;
            }

            var ea = (float)Math.Exp(-d / Tau);
            var eb = (float)Math.Exp(-d / TauS);
            RowOps.AddCombination(dW.Slice((i - firstRow) * os, os), planes.Ga.Slice((int)c * os, os), ea, planes.Gb.Slice((int)c * os, os), eb);
        }

        return k;
    }

    /// <summary>
    /// <see cref="AccumulateSample"/> for a list of integer times: whole rows, or only the column tiles in
    /// <paramref name="liveTiles"/> (-1 for all; see <c>SpikeListBlock.LiveTiles</c>). Every tile stops at the same position.
    /// </summary>
    private int AccumulateIntegerTimes<TList>(scoped TList list, int cursor, int firstRow, int end, ref float dW, ref float gk, int liveTiles)
        where TList : ISpikeList, allows ref struct
    {
        if (liveTiles == -1)
        {
            return Scatter.RowsByTime(Path, list, cursor, end, ref dW, firstRow, ref gk, _outStride);
        }

        var next = cursor;
        for (var tiles = liveTiles; tiles != 0; tiles &= tiles - 1)
        {
            var column = BitOperations.TrailingZeroCount(tiles) * RowOps.TileWidth;
            next = Scatter.RowsByTimeOfTile(Path, list, cursor, end, ref Unsafe.Add(ref dW, column), firstRow, ref Unsafe.Add(ref gk, column), _outStride);
        }

        return next;
    }

    /// <summary>Debug builds: every sample's list position in <paramref name="cursors"/> is the first entry at or after input <paramref name="first"/>.</summary>
    [Conditional("DEBUG")]
    private void AssertCursorsAt(int first, ReadOnlySpan<int> cursors, Span<int> lists, int batchSize)
    {
        for (var b = 0; b < batchSize; b++)
        {
            var list = new SpikeListBlock(lists, b, InFeatures);
            Debug.Assert(cursors[b] == (first == 0 ? 0 : LowerBound(list.Indices[..list.Count], first << list.PackShift)), "a carried list position");
        }
    }

    private static int LowerBound(ReadOnlySpan<int> sorted, int value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
