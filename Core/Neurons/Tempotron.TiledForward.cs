using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TimingBased.Events;
using TimingBased.Internal;
using TimingBased.Neurons.Kernels;

namespace TimingBased.Neurons;

/// <summary>
/// The forward of a wide layer (rows of several 16-float column tiles) one column tile at a time over a group of
/// samples, so that the tile's column of the weight matrix stays in L2 while every sample of the group scatters from it.
/// </summary>
/// <remarks>
/// Sample by sample, a 12544 × 100 layer reads about 1.5 MB of weight rows per digit from L3 (the matrix is 5.6 MB);
/// tile by tile over 16 samples, each tile's 800 KB is read once per group. Every output column gets the same additions
/// in the same order as in the full-width scatter and recurrence (same bank rotation, same double-precision steps), so
/// the results are bit-identical; samples with a fractional time take the full-width path.
/// </remarks>
public sealed partial class Tempotron
{
    /// <summary>Samples per group of the tiled forward of a wide layer: their tile voltages and spike lists (about 0.5 MB for MNIST digits) sit in L2 beside the weight tile.</summary>
    private const int WideGroup = 16;

    /// <summary>
    /// Samples per group: 16 for rows of several tiles (each group reads the whole matrix once); a pair for one-tile rows,
    /// whose matrix stays in L2 across groups anyway, so that a threaded batch splits as finely as sample by sample.
    /// </summary>
    private int TiledGroup => _outStride == RowOps.TileWidth ? 2 : WideGroup;

    /// <summary>The number of groups a batch of <paramref name="batchSize"/> samples splits into.</summary>
    private int GroupCount(int batchSize) => (batchSize + TiledGroup - 1) / TiledGroup;

    /// <summary>
    /// The widest rows the grouped forward takes: beyond, a group's voltage planes (16 × T × outStride floats: 6.5 MB for
    /// 1,024 outputs) no longer fit L2, and tile columns of 4 KB rows all fall in one L1 set. Measured on the width sweep:
    /// 256 outputs 230 → 186 µs per sample grouped, 1,024 outputs 904 → 1,390 µs (so those stay sample by sample).
    /// </summary>
    private const int MaxTiledStride = 256;

    /// <summary>
    /// The most floats a group's voltage planes may take (16 MB): a long window (large <c>T</c>) makes each plane large,
    /// and a group holds 16 of them; such layers run sample by sample, with one plane of scratch.
    /// </summary>
    private const long MaxGroupFloats = 1 << 22;

    /// <summary>
    /// Whether the forward runs by groups, tile by tile: rows of whole tiles up to <see cref="MaxTiledStride"/>, a
    /// group's planes within <see cref="MaxGroupFloats"/>, on 256-bit hardware.
    /// </summary>
    private bool UseTiledForward =>
        _outStride >= RowOps.TileWidth && _outStride <= MaxTiledStride && _outStride % RowOps.TileWidth == 0
        && (long)TiledGroup * T * _outStride <= MaxGroupFloats && Scatter.UseTiles(Path);

    /// <summary>
    /// The forward of the samples of group <paramref name="group"/> (<see cref="TiledGroup"/> each): lists every sample's spikes (a sample with a fractional
    /// time is integrated at full width right away), then for each column tile scatters and integrates every
    /// integer-time sample's tile, then writes each sample's output. With voltage planes in the spans (a tape's, or the
    /// backward's own), the lists and voltages go there, indexed by sample, and a tape's spans also take the input rows
    /// of fractional samples; otherwise to this thread's group scratch.
    /// </summary>
    /// <remarks>
    /// From <paramref name="events"/>, an afferent-ordered pattern with integer times goes straight into the lists; any
    /// other is laid out densely first, in its row of <c>spans.EventRows</c> (a backward's, which later phases read) or
    /// in this thread's scratch.
    /// </remarks>
    private void ForwardGroup(int group, in BatchSpans spans, ForwardOutput kind, int batchSize, SpikeEvents? events = null)
    {
        var first = group * TiledGroup;
        var end = Math.Min(batchSize, first + TiledGroup);
        var os = _outStride;
        var plane = T * os;
        var buffers = SampleBuffers.Get(this, backward: false);
        var taped = !spans.Voltages.IsEmpty;
        Span<int> lists;
        Span<float> voltages;
        int origin;
        if (taped)
        {
            lists = spans.SpikeLists;
            voltages = spans.Voltages;
            origin = 0;
        }
        else
        {
            var pool = Scratch.Current.Group;
            lists = pool.Ints((end - first) * SpikeListBlock.Length(InFeatures));
            voltages = pool.Floats((end - first) * plane);
            origin = first;
        }

        for (var b = first; b < end; b++)
        {
            var list = new SpikeListBlock(lists, b - origin, InFeatures);
            list.LiveRows = T;
            ReadOnlySpan<float> row;
            int count;
            bool integerTimes;
            if (events is null)
            {
                row = spans.Input.Slice(b * InFeatures, InFeatures);
                count = CollectSpikes(row, b, list.Indices, list.Times, out integerTimes, spans.NaNAt);
            }
            else
            {
                var dense = spans.EventRows.IsEmpty ? Scratch.Current.Events.Floats(InFeatures) : spans.EventRows.Slice(b * InFeatures, InFeatures);
                count = CollectFromEvents(events[b], dense, b, list.Indices, list.Times, out integerTimes);
                row = dense;
            }

            list.Count = count; // -1: a NaN, recorded for the caller, who throws
            list.IntegerTimes = integerTimes;
            if (count >= 0 && !integerTimes)
            {
                IntegrateSample(row, buffers, list.Indices, list.Times, count, integerTimes: false, voltages.Slice((b - origin) * plane, plane));
                if (taped && events is null && !spans.EventRows.IsEmpty)
                {
                    row.CopyTo(spans.EventRows.Slice(b * InFeatures, InFeatures));
                }
            }
        }

        // Two samples' tiles at a time (their bank rows' dependency chains overlap): banks for both fit in the sample's
        // full-width banks, which are at least twice as large for rows of two tiles or more.
        var tilePlane = T * RowOps.TileWidth;
        var tileBanks = Scatter.Banks * tilePlane;
        var banksA = buffers.Banks[..tileBanks];
        var banksB = buffers.Banks.Slice(tileBanks, tileBanks);
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
                banksA.Clear();
                banksB.Clear();
                Scatter.RowsOfTilePair(Path, ref weights, ref MemoryMarshal.GetReference(banksA), earlier.Indices[..earlier.Count], earlier.Times[..earlier.Count],
                    ref MemoryMarshal.GetReference(banksB), list.Indices[..list.Count], list.Times[..list.Count], tilePlane, os);
                Recurrence.IntegrateBanksOfTile(Path, banksA, _decayA, _decayB, V0, voltages[(((pending - origin) * plane) + column)..], os);
                Recurrence.IntegrateBanksOfTile(Path, banksB, _decayA, _decayB, V0, voltages[(((b - origin) * plane) + column)..], os);
                pending = -1;
            }

            if (pending >= 0)
            {
                var list = new SpikeListBlock(lists, pending - origin, InFeatures);
                banksA.Clear();
                Scatter.RowsOfTile(Path, ref weights, ref MemoryMarshal.GetReference(banksA), tilePlane, list.Indices[..list.Count], list.Times[..list.Count], os);
                Recurrence.IntegrateBanksOfTile(Path, banksA, _decayA, _decayB, V0, voltages[(((pending - origin) * plane) + column)..], os);
            }
        }

        for (var b = first; b < end && kind != ForwardOutput.None; b++)
        {
            if (new SpikeListBlock(lists, b - origin, InFeatures).Count >= 0)
            {
                WriteForwardOutput(buffers, voltages.Slice((b - origin) * plane, plane), b, spans.Output, kind);
            }
        }
    }
}
