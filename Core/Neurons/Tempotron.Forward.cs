using System.Globalization;
using System.Numerics.Tensors;
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
        SpanChecks.Destination(destination, nameof(destination), kind == ForwardOutput.Voltage ? "[batch, out, T]" : "[batch, out]", required);

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

        var spans = new BatchSpans { Input = inSpikes, Destination = output, NaNAt = nanAt };
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
            ParallelBatch.Run(this, batchSize, spans, static (self, b, _, in spans, kind) => self.ForwardSample(b, spans, kind), kind);
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
}
