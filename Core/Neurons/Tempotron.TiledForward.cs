using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TimingBased.Events;
using TimingBased.Internal;
using TimingBased.Neurons.Kernels;

namespace TimingBased.Neurons;

// The forward of a wide layer (rows of several 16-float column tiles) one column tile at a time over a group of
// samples, so that the tile's column of the weight matrix stays in L2 while every sample of the group scatters from it.
// <remarks>
// Sample by sample, a 12544 × 100 layer reads about 1.5 MB of weight rows per digit from L3 (the matrix is 5.6 MB);
// tile by tile over 16 samples, each tile's 800 KB is read once per group. Every output column gets the same additions
// in the same order as in the full-width scatter and recurrence (same bank rotation, same double-precision steps), so
// the results are bit-identical; samples with a fractional time take the full-width path.
// </remarks>
public sealed partial class Tempotron
{
    /// <summary>Samples per group of the tiled forward of a wide layer: their tile voltages and spike lists (about 0.5 MB for MNIST digits) sit in L2 beside the weight tile.</summary>
    private const int WideGroup = 16;

    /// <summary>
    /// Samples per group: 16 for rows of several tiles (each group reads the whole matrix once); a pair for one-tile rows,
    /// whose matrix stays in L2 across groups anyway, so that a threaded batch splits as finely as sample by sample.
    /// </summary>
    private int TiledGroup => _outStride == RowOps.TileWidth ? 2 : WideGroup;

    /// <summary>
    /// The time bits of the grouped forward's packed spike lists (see <see cref="SpikeLists.CollectPacked"/>), or 0 for
    /// two lists: packed where they can be (AVX-512, and <c>in &lt;&lt; bits(T - 1)</c> fits in an int).
    /// </summary>
    private int PackShift => SpikeLists.PackShift(Path, InFeatures, T);

    /// <summary>The number of groups a batch of <paramref name="batchSize"/> samples splits into.</summary>
    private int GroupCount(int batchSize) => (batchSize + TiledGroup - 1) / TiledGroup;

    /// <summary>
    /// The widest rows the grouped forward takes: on the width sweep (WidthBenchmarks) grouping pays at 256 outputs
    /// and loses at 1,024, where a group's planes overflow L2 and tile columns of 4 KB rows all fall in one L1 set, so
    /// wider rows stay sample by sample. It must also keep
    /// a sample's tiles within the 31 bits of <c>BatchSpans.StoredTiles</c>.
    /// </summary>
    private const int MaxTiledStride = 256;

    /// <summary>
    /// The most floats a group's voltage planes may take (16 MB) when it writes them (a voltage output): a long window
    /// (large <c>T</c>) makes each plane large, and a group holds 16 of them; such layers run sample by sample, with one
    /// plane of scratch.
    /// </summary>
    private const long MaxGroupFloats = 1 << 22;

    /// <summary>
    /// Whether the forward runs by groups, tile by tile: rows of whole tiles up to <see cref="MaxTiledStride"/>, a
    /// group's planes within <see cref="MaxGroupFloats"/>, on 256-bit hardware. The benchmark that justifies it:
    /// <c>VariantBenchmarks</c>, <see cref="KernelVariants.Tiles"/>.
    /// </summary>
    private bool UseTiledForward =>
        _outStride >= RowOps.TileWidth && _outStride <= MaxTiledStride && _outStride % RowOps.TileWidth == 0
        && (long)TiledGroup * T * _outStride <= MaxGroupFloats && Scatter.UseTiles(Path);

    /// <summary>
    /// The forward of the samples of group <paramref name="group"/> (<see cref="TiledGroup"/> each): lists every sample's
    /// spikes (a sample with a fractional time is integrated at full width right away), then for each column tile
    /// scatters and integrates every integer-time sample's tile into a small L1 buffer and takes its peaks (each
    /// output's maximum and its first step) from there, then writes each sample's output from the peaks.
    /// </summary>
    /// <remarks>
    /// <para>
    /// A recording forward (voltage planes in the spans: a tape's, or the backward's own) puts the lists and peaks in
    /// the spans, indexed by sample, and copies into the sample's plane only the tiles a backward will read: for a
    /// spike-time tape those holding an output that fired (the next layer reads only those), for the backward's own
    /// forward with a spike-time upstream (<paramref name="keepUpstreamColumns"/>) those with a non-zero upstream,
    /// otherwise none (a vMax or loss gradient needs only the peaks); <c>spans.StoredTiles</c> records which. A
    /// sample with a fractional time keeps its whole plane. Writing every plane of a 12544 × 100 layer (2.9 MB for 64
    /// digits, beyond L2) is what this saves (W5; LOG.md), and its backward would read them back.
    /// </para>
    /// <para>
    /// From <paramref name="events"/>, an afferent-ordered pattern with integer times goes straight into the lists; any
    /// other is laid out densely first, in its row of <c>spans.EventRows</c> (a backward's, which later phases read) or
    /// in this thread's scratch.
    /// </para>
    /// </remarks>
    private void ForwardGroup(int group, in BatchSpans spans, ForwardOutput kind, int batchSize, SpikeEvents? events = null, bool keepUpstreamColumns = false)
    {
        var first = group * TiledGroup;
        var end = Math.Min(batchSize, first + TiledGroup);
        var buffers = SampleBuffers.Get(this, backward: false);
        var outputs = GroupOutputs(first, end, spans, kind, keepUpstreamColumns, out var lists);
        CollectGroup(first, end, lists, spans, outputs, buffers, events);
        IntegrateGroupTiles(first, end, lists, spans, outputs, buffers);
        WriteGroupOutputs(first, end, lists, spans, outputs, buffers);
    }

    /// <summary>
    /// Where the group's lists (<paramref name="lists"/>), peaks and steps go, and its voltage planes: a recording
    /// forward's spans, indexed by sample; otherwise this thread's scratch, indexed from <paramref name="first"/>, with
    /// voltage planes only for a voltage output.
    /// </summary>
    private TileOutputs GroupOutputs(int first, int end, in BatchSpans spans, ForwardOutput kind, bool keepUpstreamColumns, out Span<int> lists)
    {
        if (!spans.Voltages.IsEmpty)
        {
            lists = spans.SpikeLists;
            return new TileOutputs(spans.Voltages, spans.Peaks, spans.PeakSteps, 0, kind, keepUpstreamColumns);
        }

        var os = _outStride;
        var pool = Scratch.Current.Group;
        var samples = end - first;
        var listLength = samples * SpikeListBlock.Length(InFeatures);
        var ints = pool.Ints(listLength + (samples * os));
        lists = ints[..listLength];
        var floats = pool.Floats((samples * os) + (kind == ForwardOutput.Voltage ? samples * T * os : 0));
        return new TileOutputs(floats[(samples * os)..], floats[..(samples * os)], ints[listLength..], first, kind, keepUpstreamColumns);
    }

    /// <summary>
    /// The group's first step: every sample's spike list (packed where it can be; two lists from events), its NaN
    /// recorded for the caller; a sample with a fractional time is integrated at full width right away, with its peaks.
    /// </summary>
    private void CollectGroup(int first, int end, Span<int> lists, in BatchSpans spans, in TileOutputs outputs, in SampleBuffers buffers, SpikeEvents? events)
    {
        var os = _outStride;
        var plane = T * os;
        var record = !spans.Voltages.IsEmpty;
        var origin = outputs.Origin;
        var packShift = events is null ? PackShift : 0;
        for (var b = first; b < end; b++)
        {
            var list = new SpikeListBlock(lists, b - origin, InFeatures);
            list.LiveRows = T;
            ReadOnlySpan<float> row;
            int count;
            bool integerTimes;
            var shift = packShift;
            if (events is null)
            {
                row = spans.Input.Slice(b * InFeatures, InFeatures);
                count = CollectSpikes(row, b, list.Indices, list.Times, out integerTimes, spans.NaNAt, shift);
                if (shift > 0 && count > 0 && !integerTimes)
                {
                    SpikeLists.Unpack(list.Indices, list.Times, count, shift); // the fractional-time code reads two lists
                    shift = 0;
                }
            }
            else
            {
                var dense = spans.EventRows.IsEmpty ? Scratch.Current.Events.Floats(InFeatures) : spans.EventRows.Slice(b * InFeatures, InFeatures);
                count = CollectFromEvents(events[b], dense, b, list.Indices, list.Times, out integerTimes);
                row = dense;
            }

            list.Count = count; // -1: a NaN, recorded for the caller, who throws
            list.IntegerTimes = integerTimes;
            list.PackShift = count >= 0 ? shift : 0; // every integer-time list of the group in one form, empty ones too
            if (count < 0)
            {
                continue;
            }

            if (record)
            {
                spans.StoredTiles[b] = integerTimes ? 0 : -1;
            }

            if (!integerTimes)
            {
                var v = outputs.Voltages.IsEmpty ? buffers.V : outputs.Voltages.Slice((b - origin) * plane, plane);
                IntegrateSample(row, buffers, list.Indices, list.Times, count, integerTimes: false, v);
                RowOps.MaxAndArgMax(RowOps.UseVector(Path, os), v, os, outputs.Peaks.Slice((b - origin) * os, os), outputs.Steps.Slice((b - origin) * os, os));
                if (record && events is null && !spans.EventRows.IsEmpty)
                {
                    row.CopyTo(spans.EventRows.Slice(b * InFeatures, InFeatures));
                }
            }
        }
    }

    /// <summary>
    /// The group's second step, column tile by column tile: the integer-time samples' scatters and recurrences, two
    /// samples at a time (their bank rows' dependency chains overlap), in this thread's tile banks. Each tile's
    /// integration leaves its banks zero for the next, and the group hands them back zero, so they are not cleared here
    /// (2 x 25 KB per pair of digits; W3). Their tile voltages go to the first tile's worth of the
    /// sample's delta and voltage buffers, which integer times leave unused.
    /// </summary>
    private void IntegrateGroupTiles(int first, int end, Span<int> lists, in BatchSpans spans, in TileOutputs outputs, in SampleBuffers buffers)
    {
        var os = _outStride;
        var origin = outputs.Origin;
        var tilePlane = T * RowOps.TileWidth;
        var tileBanks = Scatter.Banks * tilePlane;
        var bankPool = Scratch.Current.TileBanks;
        var bothBanks = bankPool.Take(2 * tileBanks);
        var banksA = bothBanks[..tileBanks];
        var banksB = bothBanks[tileBanks..];
        for (var column = 0; column < os; column += RowOps.TileWidth)
        {
            ref var weights = ref Unsafe.Add(ref _weights.Reference, column);
            var pending = -1;
            for (var b = first; b < end; b++)
            {
                var list = new SpikeListBlock(lists, b - origin, InFeatures);
                if (list.Count < 0 || !list.IntegerTimes)
                {
                    continue;
                }

                if (pending < 0)
                {
                    pending = b;
                    continue;
                }

                var earlier = new SpikeListBlock(lists, pending - origin, InFeatures);
                Debug.Assert(earlier.PackShift == list.PackShift, "a group's integer-time lists share one form");
                if (list.PackShift > 0)
                {
                    Scatter.RowsOfTilePair(Path, ref weights, earlier.Packed, ref MemoryMarshal.GetReference(banksA), list.Packed, ref MemoryMarshal.GetReference(banksB), tilePlane, os);
                }
                else
                {
                    Scatter.RowsOfTilePair(Path, ref weights, earlier.Lists, ref MemoryMarshal.GetReference(banksA), list.Lists, ref MemoryMarshal.GetReference(banksB), tilePlane, os);
                }

                FinishTilePair(pending, b, column, banksA, banksB, buffers.Delta[..tilePlane], buffers.V[..tilePlane], spans, outputs);
                pending = -1;
            }

            if (pending >= 0)
            {
                ScatterTile(new SpikeListBlock(lists, pending - origin, InFeatures), column, banksA);
                FinishTile(pending, column, banksA, buffers.Delta[..tilePlane], spans, outputs);
            }
        }

        bankPool.Return();
    }

    /// <summary>The group's last step: each sample's output (voltages, or what its peaks give), except a NaN sample's.</summary>
    private void WriteGroupOutputs(int first, int end, Span<int> lists, in BatchSpans spans, in TileOutputs outputs, in SampleBuffers buffers)
    {
        var os = _outStride;
        var plane = T * os;
        var origin = outputs.Origin;
        for (var b = first; b < end && outputs.Kind != ForwardOutput.None; b++)
        {
            if (new SpikeListBlock(lists, b - origin, InFeatures).Count < 0)
            {
                continue;
            }

            if (outputs.Kind == ForwardOutput.Voltage)
            {
                WriteForwardOutput(buffers, outputs.Voltages.Slice((b - origin) * plane, plane), b, spans.Destination, outputs.Kind);
            }
            else
            {
                WritePeakOutput(outputs.Peaks.Slice((b - origin) * os, os), outputs.Steps.Slice((b - origin) * os, os), b, spans.Destination, outputs.Kind);
            }
        }
    }
}
