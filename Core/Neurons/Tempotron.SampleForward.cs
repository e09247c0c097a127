using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TimingBased.Events;
using TimingBased.Internal;
using TimingBased.Neurons.Kernels;

namespace TimingBased.Neurons;

// One sample's forward at full width: its spike list, the scatter of its weight rows by time, and the recurrence.
public sealed partial class Tempotron
{
    /// <summary>
    /// The per-sample forward at full width, for every caller that does not run by groups: sample
    /// <paramref name="b"/>'s spike list (from its row of <c>spans.Input</c>, or from its pattern in
    /// <paramref name="events"/>), its voltages, and the requested output. A recording forward (a tape's:
    /// <c>spans.Voltages</c> not empty) keeps the list in the sample's block, all of its plane, its peaks, and its input
    /// row when a time is not an integer; the backward reads them from there.
    /// </summary>
    private void ForwardSample(int b, in BatchSpans spans, ForwardOutput kind, SpikeEvents? events = null)
    {
        var buffers = SampleBuffers.Get(this, backward: false);
        var record = !spans.Voltages.IsEmpty;
        var plane = T * _outStride;
        var list = record ? new SpikeListBlock(spans.SpikeLists, b, InFeatures) : default;
        var indices = record ? list.Indices : buffers.Indices;
        var times = record ? list.Times : buffers.Times;
        var v = record ? spans.Voltages.Slice(b * plane, plane) : buffers.V;
        var dense = events is null ? default : Scratch.Current.Events.Floats(InFeatures); // an event pattern's dense row, when it needs one
        var row = events is null ? spans.Input.Slice(b * InFeatures, InFeatures) : dense;
        var count = events is null
            ? SampleVoltage(row, b, buffers, indices, times, out var integerTimes, spans.NaNAt, v)
            : SampleFromEvents(events[b], dense, b, buffers, indices, times, out integerTimes, v);
        if (count < 0)
        {
            return; // a NaN, recorded for the caller
        }

        if (!record)
        {
            WriteForwardOutput(buffers, v, b, spans.Destination, kind);
            return;
        }

        list.Count = count;
        list.IntegerTimes = integerTimes;
        list.PackShift = 0;
        list.LiveRows = T;
        if (!integerTimes)
        {
            row.CopyTo(spans.EventRows.Slice(b * InFeatures, InFeatures));
        }

        var os = _outStride;
        var max = spans.Peaks.Slice(b * os, os);
        var argMax = spans.PeakSteps.Slice(b * os, os);
        RowOps.MaxAndArgMax(RowOps.UseVector(Path, os), v, os, max, argMax);
        spans.StoredTiles[b] = -1;
        WritePeakOutput(max, argMax, b, spans.Destination, kind);
    }

    /// <summary>
    /// The event-driven forward of one sample: collects its spiking inputs into <paramref name="indices"/> (and their
    /// truncated times into <paramref name="times"/>), adds their weight rows into the per-time accumulators and runs
    /// the recurrence into <paramref name="v"/> (<c>[T, outStride]</c>; empty: <c>buffers.V</c>). Returns the number of
    /// spiking inputs (-1 for a NaN, recorded in <paramref name="nanAt"/>), and whether all their times are integers.
    /// </summary>
    private int SampleVoltage(ReadOnlySpan<float> row, int b, in SampleBuffers buffers, Span<int> indices, Span<int> times, out bool integerTimes,
        Span<int> nanAt = default, Span<float> v = default)
    {
        var count = CollectSpikes(row, b, indices, times, out integerTimes, nanAt);
        if (count >= 0)
        {
            IntegrateSample(row, buffers, indices, times, count, integerTimes, v);
        }

        return count;
    }

    /// <summary>
    /// Lists sample <paramref name="b"/>'s spiking inputs and their truncated times (with <paramref name="packShift"/>, packed
    /// into <paramref name="indices"/> alone: see <see cref="SpikeLists.CollectPacked"/>); returns their number, or, for a NaN,
    /// throws (serially) or records its coordinate in <paramref name="nanAt"/> (a parallel worker) and returns -1.
    /// </summary>
    private int CollectSpikes(ReadOnlySpan<float> row, int b, Span<int> indices, Span<int> times, out bool integerTimes, Span<int> nanAt, int packShift = 0)
    {
        var count = packShift > 0
            ? SpikeLists.CollectPacked(row, T, indices, packShift, out integerTimes)
            : SpikeLists.Collect(Path, row, T, indices, times, out integerTimes);
        if (count < 0)
        {
            if (nanAt.IsEmpty)
            {
                ThrowNaN(b, ~count);
            }

            // A parallel worker: keep the smallest (batch, input) coordinate, so the error does not depend on timing.
            var flat = (b * InFeatures) + ~count;
            int seen;
            while (flat < (seen = Volatile.Read(ref nanAt[0])) && Interlocked.CompareExchange(ref nanAt[0], flat, seen) != seen)
            {
            }

            return -1;
        }

        return count;
    }

    /// <summary>
    /// The forward of one sample from its spike lists (inputs in increasing order, their truncated times, all in the
    /// window): adds their weight rows into the per-time accumulators and runs the recurrence into <paramref name="v"/>
    /// (<c>[T, outStride]</c>; empty: <c>buffers.V</c>). <paramref name="row"/> (the sample's dense times) is read only
    /// when some time is not an integer.
    /// </summary>
    private void IntegrateSample(ReadOnlySpan<float> row, in SampleBuffers buffers, Span<int> indices, Span<int> times, int count, bool integerTimes,
        Span<float> v = default)
    {
        var os = _outStride;
        var banks = buffers.Banks[..(AccumulatorBanks * T * os)];
        var delta = buffers.Delta;
        banks.Clear();
        var anyFraction = false;
        if (integerTimes)
        {
            // All times are integers in [0, T) (the encoder's output): c = s, d = 0, no checks needed.
            AddIntegerTimes(indices[..count], times[..count], banks);
        }
        else
        {
            AddGeneralTimes(row, indices[..count], banks, delta, ref anyFraction);
        }

        Recurrence.IntegrateBanks(Path, banks, anyFraction ? delta : default, os, _decay, buffers.State, v.IsEmpty ? buffers.V : v);
    }

    /// <summary>
    /// The scatter for integer times: <c>bank[k % 4][times[k]] += W[indices[k]]</c> over the
    /// <see cref="AccumulatorBanks"/> copies of the plane (see <see cref="Scatter.Rows"/>).
    /// </summary>
    private void AddIntegerTimes(ReadOnlySpan<int> indices, ReadOnlySpan<int> times, Span<float> banks) =>
        Scatter.Rows(Path, ref _weights.Reference, ref MemoryMarshal.GetReference(banks), T * _outStride, indices, times, _outStride);

    /// <summary>The scatter for samples with non-integer times: <c>c = ceil(s)</c>, <c>d = c - s</c>, both planes.</summary>
    private void AddGeneralTimes(ReadOnlySpan<float> row, ReadOnlySpan<int> indices, Span<float> banks, Span<float> delta, ref bool anyFraction)
    {
        var os = _outStride;
        var plane = T * os;
        var a = banks[..plane];
        ref var weights = ref _weights.Reference;
        ref var aRef = ref MemoryMarshal.GetReference(banks);
        ref var rowRef = ref MemoryMarshal.GetReference(row);
        ref var indexRef = ref MemoryMarshal.GetReference(indices);
        var count = indices.Length;
        var vector = RowOps.UseVector(Path, os);
        float window = T;
        for (var k = 0; k < count; k++)
        {
            var i = Unsafe.Add(ref indexRef, k);
            var s = Unsafe.Add(ref rowRef, i);
            var c = MathF.Ceiling(s);
            if (c >= window)
            {
                continue; // a non-integer time in (T-1, T): its PSP starts after the window
            }

            ref var w = ref Unsafe.Add(ref weights, i * os);
            var d = c - s; // exact: s and c are within 1 of each other
            if (d == 0f)
            {
                // Spikes rotate over AccumulatorBanks copies of the integer-time plane, so consecutive
                // spikes at the same time do not wait on each other's store.
                RowOps.Add(vector, ref Unsafe.Add(ref aRef, ((k & (AccumulatorBanks - 1)) * plane) + ((int)c * os)), ref w, os);
                continue;
            }

            if (!anyFraction)
            {
                delta.Clear();
                anyFraction = true;
            }

            AddFractionalSpike(vector, MemoryMarshal.CreateReadOnlySpan(ref w, os), a.Slice((int)c * os, os), delta.Slice((int)c * os, os), d);
        }
    }

    /// <summary>
    /// A spike <paramref name="d"/> in <c>(0, 1)</c> before its step <c>c = ceil(s)</c>: its weight row enters the integer
    /// plane scaled by <c>exp(-d/tau)</c> and the correction plane by <c>exp(-d/tauS) - exp(-d/tau)</c> (see
    /// docs/event-driven.md). Shared by the batch forward and the stream.
    /// </summary>
    internal void AddFractionalSpike(bool vector, ReadOnlySpan<float> row, Span<float> plane, Span<float> correction, float d)
    {
        var ea = (float)Math.Exp(-d / Tau);
        var eb = (float)Math.Exp(-d / TauS);
        RowOps.AddScaled(vector, plane, row, ea);
        RowOps.AddScaled(vector, correction, row, eb - ea);
    }
}
