using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TimingBased.Internal;
using TimingBased.Neurons.Kernels;

namespace TimingBased.Neurons;

public sealed partial class Tempotron
{
    /// <summary>How many copies of the integer-time accumulator plane the scatter rotates over (see <see cref="Scatter.Rows"/>).</summary>
    private const int AccumulatorBanks = Scatter.Banks;

    private enum ForwardOutput
    {
        Voltage,
        MaxVoltage,
        SpikeTimes,

        /// <summary>Only the spike lists and voltages (the backward's own forward).</summary>
        None,
    }

    /// <summary>Computes the voltage traces <c>V[b, o, t]</c> for a batch of input spike times.</summary>
    /// <param name="inSpikes">
    /// Input spike times, shape <c>[batch, in]</c> row-major. A time <c>&lt; 0</c> means no spike (<c>-0</c> is a
    /// spike at 0); non-integer times are valid; times <c>&gt;= T</c> and <c>+Infinity</c> contribute nothing.
    /// </param>
    /// <param name="batchSize">The batch size; at least 1.</param>
    /// <param name="destination">Receives the voltages, shape <c>[batch, out, T]</c>.</param>
    /// <remarks>
    /// Computes <c>V[b,o,t] = V0 sum_i W[o,i] K(t - s[b,i])</c> with <c>K(u) = exp(-u/tau) - exp(-u/tauS)</c> for
    /// <c>u &gt;= 0</c>, else 0, event by event: each spiking input adds its weight row at time <c>ceil(s)</c>, and
    /// one exponential recurrence over <c>t</c> turns those into voltages (see <c>docs/event-driven.md</c>). Cost
    /// <c>O(batch (spikes out + out T))</c>; allocates nothing in steady state.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> &lt; 1.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="inSpikes"/> is not of length <c>batch * in</c>, <paramref name="destination"/> is too short, or an
    /// input is NaN (the message gives its (batch, input) coordinate).
    /// </exception>
    public void Voltage(ReadOnlySpan<float> inSpikes, int batchSize, Span<float> destination) =>
        Forward(inSpikes, batchSize, destination, ForwardOutput.Voltage);

    /// <summary>Computes the maximum voltage over time, <c>vMax[b, o] = max_t V[b, o, t]</c>.</summary>
    /// <param name="inSpikes">Input spike times, shape <c>[batch, in]</c>; see <see cref="Voltage(ReadOnlySpan{float}, int, Span{float})"/>.</param>
    /// <param name="batchSize">The batch size; at least 1.</param>
    /// <param name="destination">Receives the maxima, shape <c>[batch, out]</c>.</param>
    /// <remarks>Computes the voltage as in <see cref="Voltage(ReadOnlySpan{float}, int, Span{float})"/> and keeps its maximum over <c>t = 0..T-1</c>.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> &lt; 1.</exception>
    /// <exception cref="ArgumentException">A length is wrong or an input is NaN.</exception>
    public void MaxVoltage(ReadOnlySpan<float> inSpikes, int batchSize, Span<float> destination) =>
        Forward(inSpikes, batchSize, destination, ForwardOutput.MaxVoltage);

    /// <summary>Computes the output spike times: the first time of the maximum voltage, negated when it stays below threshold.</summary>
    /// <param name="inSpikes">Input spike times, shape <c>[batch, in]</c>; see <see cref="Voltage(ReadOnlySpan{float}, int, Span{float})"/>.</param>
    /// <param name="batchSize">The batch size; at least 1.</param>
    /// <param name="destination">Receives the spike times, shape <c>[batch, out]</c>.</param>
    /// <remarks>
    /// Computes <c>t* = argmax_t V[b,o,t]</c> (the first index of the maximum, as <c>torch.argmax</c>) and returns
    /// <c>t*</c> when <c>max_t V &gt;= vThreshold</c>, else <c>-t*</c>. A silent neuron whose maximum is at
    /// <c>t = 0</c> therefore reports <c>+0</c>, which a next layer reads as a spike at 0: SpikingJelly's behaviour,
    /// kept on purpose. The values are SpikingJelly's forward values; its straight-through soft arg-max only shapes
    /// the gradient (see <c>SpikeTimesBackward</c>).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> &lt; 1.</exception>
    /// <exception cref="ArgumentException">A length is wrong or an input is NaN.</exception>
    public void SpikeTimes(ReadOnlySpan<float> inSpikes, int batchSize, Span<float> destination) =>
        Forward(inSpikes, batchSize, destination, ForwardOutput.SpikeTimes);

    /// <summary>Computes the voltage traces of a <c>[batch, in]</c> tensor as a new <c>[batch, out, T]</c> tensor.</summary>
    /// <param name="inSpikes">Input spike times, rank 2 with <c>Lengths[1] == in</c>.</param>
    /// <returns>A new tensor of shape <c>[batch, out, T]</c>.</returns>
    /// <exception cref="ArgumentException">The shape is wrong or an input is NaN.</exception>
    public Tensor<float> Voltage(in ReadOnlyTensorSpan<float> inSpikes) => ForwardTensor(inSpikes, ForwardOutput.Voltage);

    /// <summary>Computes the maximum voltages of a <c>[batch, in]</c> tensor as a new <c>[batch, out]</c> tensor.</summary>
    /// <param name="inSpikes">Input spike times, rank 2 with <c>Lengths[1] == in</c>.</param>
    /// <returns>A new tensor of shape <c>[batch, out]</c>.</returns>
    /// <exception cref="ArgumentException">The shape is wrong or an input is NaN.</exception>
    public Tensor<float> MaxVoltage(in ReadOnlyTensorSpan<float> inSpikes) => ForwardTensor(inSpikes, ForwardOutput.MaxVoltage);

    /// <summary>Computes the output spike times of a <c>[batch, in]</c> tensor as a new <c>[batch, out]</c> tensor.</summary>
    /// <param name="inSpikes">Input spike times, rank 2 with <c>Lengths[1] == in</c>.</param>
    /// <returns>A new tensor of shape <c>[batch, out]</c>.</returns>
    /// <exception cref="ArgumentException">The shape is wrong or an input is NaN.</exception>
    public Tensor<float> SpikeTimes(in ReadOnlyTensorSpan<float> inSpikes) => ForwardTensor(inSpikes, ForwardOutput.SpikeTimes);

    private Tensor<float> ForwardTensor(in ReadOnlyTensorSpan<float> inSpikes, ForwardOutput kind)
    {
        if (inSpikes.Rank != 2 || inSpikes.Lengths[1] != InFeatures || inSpikes.Lengths[0] < 1)
        {
            ThrowHelper.TensorShape(nameof(inSpikes), string.Create(CultureInfo.InvariantCulture, $"[batch, {InFeatures}] with batch >= 1"), inSpikes.Lengths);
        }

        var batch = (int)inSpikes.Lengths[0];
        var resultLength = (long)batch * OutFeatures * (kind == ForwardOutput.Voltage ? T : 1);
        if (resultLength > Array.MaxLength)
        {
            ThrowHelper.TensorShape(nameof(inSpikes), string.Create(CultureInfo.InvariantCulture,
                $"[batch, {InFeatures}] with a result of at most {Array.MaxLength} elements (batch * {OutFeatures}{(kind == ForwardOutput.Voltage ? $" * {T}" : "")})"), inSpikes.Lengths);
        }

        var input = new float[inSpikes.FlattenedLength];
        inSpikes.FlattenTo(input);
        if (kind == ForwardOutput.Voltage)
        {
            var v = new float[(long)batch * OutFeatures * T];
            Forward(input, batch, v, kind);
            return Tensor.Create(v, [batch, OutFeatures, T]);
        }

        var result = new float[(long)batch * OutFeatures];
        Forward(input, batch, result, kind);
        return Tensor.Create(result, [batch, OutFeatures]);
    }

    private void Forward(ReadOnlySpan<float> inSpikes, int batchSize, Span<float> destination, ForwardOutput kind, TempotronTape? tape = null)
    {
        ValidateBatch(inSpikes, batchSize);
        var required = kind == ForwardOutput.Voltage ? (long)batchSize * OutFeatures * T : (long)batchSize * OutFeatures;
        if (destination.Length < required)
        {
            ThrowHelper.DestinationTooShort(nameof(destination),
                kind == ForwardOutput.Voltage ? "[batch, out, T]" : "[batch, out]", required, destination.Length);
        }

        // A failed call writes nothing. A voltage plane is too large to stage, so that call scans for NaN first. A vMax
        // or spike-time call stages its [batch, out] results in scratch, lets the spike scan find a NaN (serially it
        // throws there; parallel workers, which must not throw, record it), and copies the results out only when every
        // sample has succeeded: no serial pre-scan of the whole input.
        var staged = kind != ForwardOutput.Voltage;
        if (!staged)
        {
            ThrowIfNaN(inSpikes);
        }

        var output = staged ? Scratch.Current.Batch.Floats((int)required) : destination;
        var nanAt = staged && MaxDegreeOfParallelism > 1 ? Scratch.Current.Batch.Ints(1) : default;
        if (!nanAt.IsEmpty)
        {
            nanAt[0] = int.MaxValue;
        }

        var spans = new BatchSpans { Input = inSpikes, Output = output, NaNAt = nanAt };
        if (tape is not null)
        {
            ValidateBackwardBatch(batchSize); // what the tape records must fit the backward it serves
            var listLength = SpikeListBlock.Length(InFeatures);
            var plane = T * _outStride;
            tape.Prepare(this, batchSize, listLength, plane, _outStride);
            spans = spans with
            {
                SpikeLists = tape.Lists[..(batchSize * listLength)],
                Voltages = tape.Voltages[..(batchSize * plane)],
                Peaks = tape.Peaks[..(batchSize * _outStride)],
                PeakSteps = tape.PeakSteps[..(batchSize * _outStride)],
                StoredTiles = tape.StoredTiles[..batchSize],
                EventRows = tape.Rows[..(batchSize * InFeatures)],
            };
        }

        if (UseTiledForward)
        {
            ParallelBatch.Run(this, GroupCount(batchSize), spans,
                static (self, group, _, in spans, work) => self.ForwardGroup(group, spans, work.Kind, work.Batch), (Kind: kind, Batch: batchSize));
        }
        else
        {
            ParallelBatch.Run(this, batchSize, spans, static (self, b, _, in spans, kind) =>
            {
                if (spans.Voltages.IsEmpty)
                {
                    self.ForwardOne(spans.Input, b, spans.Output, kind, spans.NaNAt);
                }
                else
                {
                    self.ForwardToTape(b, spans, kind);
                }
            }, kind);
        }
        if (!nanAt.IsEmpty && nanAt[0] != int.MaxValue)
        {
            ThrowNaN(nanAt[0] / InFeatures, nanAt[0] % InFeatures);
        }

        if (staged)
        {
            output.CopyTo(destination);
        }

        tape?.Record(this, batchSize);
    }

    private void ForwardOne(ReadOnlySpan<float> inSpikes, int b, Span<float> destination, ForwardOutput kind, Span<int> nanAt)
    {
        var buffers = SampleBuffers.Get(this, backward: false);
        if (SampleVoltage(inSpikes.Slice(b * InFeatures, InFeatures), b, buffers, buffers.Indices, buffers.Times, out _, nanAt) < 0)
        {
            return; // a NaN, recorded for the caller
        }

        WriteForwardOutput(buffers, buffers.V, b, destination, kind);
    }

    /// <summary>Writes sample <paramref name="b"/>'s requested output from its voltages <paramref name="v"/> (<c>[T, outStride]</c>).</summary>
    private void WriteForwardOutput(in SampleBuffers buffers, ReadOnlySpan<float> v, int b, Span<float> destination, ForwardOutput kind)
    {
        var outs = OutFeatures;
        var os = _outStride;
        if (kind == ForwardOutput.Voltage)
        {
            var dst = destination.Slice(b * outs * T, outs * T);
            for (var t = 0; t < T; t++)
            {
                for (var o = 0; o < outs; o++)
                {
                    dst[(o * T) + t] = v[(t * os) + o];
                }
            }

            return;
        }

        RowOps.MaxAndArgMax(RowOps.UseVector(Path, os), v, os, buffers.Max, buffers.ArgMax);
        WritePeakOutput(buffers.Max, buffers.ArgMax, b, destination, kind);
    }

    /// <summary>Writes sample <paramref name="b"/>'s maxima or spike times (<paramref name="kind"/>) from its peaks.</summary>
    private void WritePeakOutput(ReadOnlySpan<float> max, ReadOnlySpan<int> argMax, int b, Span<float> destination, ForwardOutput kind)
    {
        var outs = OutFeatures;
        var row = destination.Slice(b * outs, outs);
        for (var o = 0; o < outs; o++)
        {
            row[o] = kind == ForwardOutput.MaxVoltage ? max[o] : SignedSpikeTime(max[o], argMax[o]);
        }
    }

    /// <summary><c>t*</c> if the neuron fired, else <c>-t*</c>, with <c>+0</c> (never <c>-0</c>) for <c>t* = 0</c>.</summary>
    private float SignedSpikeTime(float max, int arg) => max >= _vThresholdF || arg == 0 ? arg : -arg;

    /// <summary>
    /// The event-driven forward of one sample: collects its spiking inputs into <paramref name="indices"/> (and their
    /// truncated times into <paramref name="times"/>), adds their weight rows into the per-time accumulators and runs
    /// the recurrence into <c>buffers.V</c> (<c>[T, outStride]</c>). Returns the number of spiking inputs, and whether
    /// all their times are integers.
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

        Recurrence.IntegrateBanks(Path, banks, anyFraction ? delta : default, os, _decayA, _decayB, V0, buffers.State, v.IsEmpty ? buffers.V : v);
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

    private void ValidateBatch(ReadOnlySpan<float> inSpikes, int batchSize)
    {
        if (batchSize < 1)
        {
            ThrowHelper.SizeTooSmall(nameof(batchSize), batchSize, 1);
        }

        var expected = (long)batchSize * InFeatures;
        if (inSpikes.Length != expected)
        {
            ThrowHelper.LengthMismatch(nameof(inSpikes), string.Create(CultureInfo.InvariantCulture,
                $"[batch {batchSize}, in {InFeatures}]"), expected, inSpikes.Length);
        }
    }

    private void ThrowIfNaN(ReadOnlySpan<float> inSpikes)
    {
        var at = SpanChecks.IndexOfNaN(inSpikes);
        if (at >= 0)
        {
            ThrowNaN(at / InFeatures, at % InFeatures);
        }
    }

    private static void ThrowNaN(int b, int i) =>
        ThrowHelper.NaNAt("inSpikes", string.Create(CultureInfo.InvariantCulture, $"(batch {b}, input {i})"));

    /// <summary>Per-thread scratch for one sample, carved out of <see cref="Scratch.Current"/>.</summary>
    private readonly ref struct SampleBuffers
    {
        public readonly Span<int> Indices;
        public readonly Span<int> Times;
        public readonly Span<float> Banks;
        public readonly Span<float> Delta;
        public readonly Span<float> V;
        public readonly Span<float> G;
        public readonly Span<float> Max;
        public readonly Span<int> ArgMax;
        public readonly Span<double> State;
        public readonly Span<double> Exps;

        private SampleBuffers(Tempotron owner, bool backward)
        {
            var scratch = Scratch.Current.Sample;
            var plane = owner.T * owner._outStride;
            var os = owner._outStride;
            var banks = AccumulatorBanks * plane; // the tiled forward's two samples' tile banks are Scratch.TileBanks
            var floats = scratch.Floats(banks + (plane * (backward ? 3 : 2)) + os);
            Max = floats[^os..];
            Banks = floats[..banks];
            var rest = floats[banks..^os];
            Delta = rest[..plane];
            V = rest.Slice(plane, plane);
            if (backward)
            {
                G = rest.Slice(2 * plane, plane);
            }

            var spikeLength = owner.InFeatures + SpikeLists.IndexSlack;
            var ints = scratch.Ints((2 * spikeLength) + os);
            Indices = ints[..spikeLength];
            Times = ints.Slice(spikeLength, spikeLength);
            ArgMax = ints[(2 * spikeLength)..];
            var doubles = scratch.Doubles((2 * os) + (backward ? owner.T : 0));
            State = doubles[..(2 * os)];
            Exps = doubles[(2 * os)..];
        }

        public static SampleBuffers Get(Tempotron owner, bool backward) => new(owner, backward);
    }
}
