using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TimingBased.Neurons.Kernels;

namespace TimingBased.Neurons;

// The tiled forward's per-tile steps: one sample's tile scatter, and the integration of one tile or a pair with their
// peaks, and which tiles a recording keeps.
public sealed partial class Tempotron
{
    /// <summary>
    /// Adds one sample's spikes (<paramref name="list"/>) into the <c>[T, 16]</c> <paramref name="banks"/> of the column
    /// tile at <paramref name="column"/>: the forward's scatter for a sample without a partner, and the backward's when
    /// it computes a tile again (<see cref="EnsureStoredTile"/>), so both give the same bits.
    /// </summary>
    private void ScatterTile(in SpikeListBlock list, int column, Span<float> banks)
    {
        ref var weights = ref Unsafe.Add(ref _weights.Reference, column);
        var plane = banks.Length / Scatter.Banks;
        if (list.PackShift > 0)
        {
            Scatter.RowsOfTile(Path, list.Packed, ref weights, ref MemoryMarshal.GetReference(banks), plane, _outStride);
            return;
        }

        Scatter.RowsOfTile(Path, list.Lists, ref weights, ref MemoryMarshal.GetReference(banks), plane, _outStride);
    }

    /// <summary>
    /// <see cref="FinishTile"/> for samples <paramref name="a"/> and <paramref name="b"/> at once: their two recurrences
    /// and peaks in one loop (<see cref="Recurrence.IntegrateTilePairWithPeaks"/>), which also clears the banks.
    /// </summary>
    private void FinishTilePair(int a, int b, int column, Span<float> banksA, Span<float> banksB, Span<float> tileA, Span<float> tileB,
        in BatchSpans spans, in TileOutputs outputs)
    {
        if (outputs.Kind == ForwardOutput.Voltage || !KernelVariants.Pairs)
        {
            FinishTile(a, column, banksA, tileA, spans, outputs);
            FinishTile(b, column, banksB, tileB, spans, outputs);
            return;
        }

        var os = _outStride;
        var atA = ((a - outputs.Origin) * os) + column;
        var atB = ((b - outputs.Origin) * os) + column;
        var maxA = outputs.Peaks.Slice(atA, RowOps.TileWidth);
        var stepsA = outputs.Steps.Slice(atA, RowOps.TileWidth);
        var maxB = outputs.Peaks.Slice(atB, RowOps.TileWidth);
        var stepsB = outputs.Steps.Slice(atB, RowOps.TileWidth);
        Recurrence.IntegrateTilePairWithPeaks(Path, new(banksA, banksB, tileA, tileB, maxA, stepsA, maxB, stepsB), _decay);
        StoreTileIfKept(a, column, tileA, spans, outputs, maxA, stepsA);
        StoreTileIfKept(b, column, tileB, spans, outputs, maxB, stepsB);
    }

    /// <summary>
    /// Integrates sample <paramref name="b"/>'s column tile at <paramref name="column"/> from its four
    /// <paramref name="banks"/>, and clears them: straight into its voltage plane for a voltage output; otherwise into
    /// <paramref name="tile"/> (<c>[T, 16]</c>), whose peaks go to the sample's peaks, and, when a recording keeps the tile
    /// (see <see cref="ForwardGroup"/>), on into its plane.
    /// </summary>
    private void FinishTile(int b, int column, Span<float> banks, Span<float> tile, in BatchSpans spans, in TileOutputs outputs)
    {
        var os = _outStride;
        var at = b - outputs.Origin;
        var plane = T * os;
        if (outputs.Kind == ForwardOutput.Voltage)
        {
            Recurrence.IntegrateBanksOfTile(Path, banks, _decay, outputs.Voltages[((at * plane) + column)..], os);
            banks.Clear();
            return;
        }

        var max = outputs.Peaks.Slice((at * os) + column, RowOps.TileWidth);
        var steps = outputs.Steps.Slice((at * os) + column, RowOps.TileWidth);
        Recurrence.IntegrateTileWithPeaks(Path, banks, _decay, tile, max, steps);
        StoreTileIfKept(b, column, tile, spans, outputs, max, steps);
    }

    /// <summary>Copies sample <paramref name="b"/>'s integrated <paramref name="tile"/> into its plane when a recording keeps it (<see cref="KeepsTile"/>).</summary>
    private void StoreTileIfKept(int b, int column, ReadOnlySpan<float> tile, in BatchSpans spans, in TileOutputs outputs, ReadOnlySpan<float> max, ReadOnlySpan<int> steps)
    {
        if (spans.StoredTiles.IsEmpty || !KeepsTile(b, column, spans, outputs, max, steps))
        {
            return;
        }

        var os = _outStride;
        var at = b - outputs.Origin;
        var plane = T * os;
        Debug.Assert(column / RowOps.TileWidth < 31, "a sample's kept tiles are bits of one int (MaxTiledStride)");
        var v = outputs.Voltages.Slice((at * plane) + column, plane - column);
        for (var t = 0; t < T; t++)
        {
            tile.Slice(t * RowOps.TileWidth, RowOps.TileWidth).CopyTo(v.Slice(t * os, RowOps.TileWidth));
        }

        spans.StoredTiles[b] |= 1 << (column / RowOps.TileWidth);
    }

    /// <summary>
    /// Whether a recording keeps sample <paramref name="b"/>'s tile at <paramref name="column"/>: a spike-time forward
    /// keeps it when one of its outputs fired (its time is not negative, so a next layer reads it and may send a
    /// gradient back); the backward's own forward under a spike-time upstream, when one of its outputs has a non-zero
    /// upstream.
    /// </summary>
    private bool KeepsTile(int b, int column, in BatchSpans spans, in TileOutputs outputs, ReadOnlySpan<float> max, ReadOnlySpan<int> steps)
    {
        var outputsInTile = Math.Min(RowOps.TileWidth, OutFeatures - column);
        if (outputs.Kind == ForwardOutput.SpikeTimes)
        {
            for (var j = 0; j < outputsInTile; j++)
            {
                if (SignedSpikeTime(max[j], steps[j]) >= 0f)
                {
                    return true;
                }
            }
        }

        if (outputs.KeepUpstreamColumns)
        {
            var upstream = spans.Upstream.Slice((b * OutFeatures) + column, outputsInTile);
            for (var j = 0; j < outputsInTile; j++)
            {
                if (upstream[j] != 0f)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Where <see cref="FinishTile"/> puts a group's tile results: planes, peaks and their steps from sample <see cref="Origin"/> on.</summary>
    private readonly ref struct TileOutputs(Span<float> voltages, Span<float> peaks, Span<int> steps, int origin, ForwardOutput kind, bool keepUpstreamColumns)
    {
        public Span<float> Voltages { get; } = voltages;

        public Span<float> Peaks { get; } = peaks;

        public Span<int> Steps { get; } = steps;

        public int Origin { get; } = origin;

        public ForwardOutput Kind { get; } = kind;

        public bool KeepUpstreamColumns { get; } = keepUpstreamColumns;
    }
}
