
namespace TimingBased.Neurons;

// Forward calls that record a <see cref="TempotronTape"/>, and backward calls that read it instead of running the
// forward again; same values, bit for bit, as the plain calls.
public sealed partial class Tempotron
{
    /// <summary>
    /// Computes the maximum voltages as <see cref="MaxVoltage(ReadOnlySpan{float}, int, Span{float})"/> does and records
    /// what the backward needs in <paramref name="tape"/>.
    /// </summary>
    /// <param name="tape">Receives the recording (any earlier one is discarded); grows on first use.</param>
    /// <param name="inSpikes">Input spike times, shape <c>[batch, in]</c>; see <see cref="Voltage(ReadOnlySpan{float}, int, Span{float})"/>.</param>
    /// <param name="batchSize">The batch size; at least 1.</param>
    /// <param name="destination">Receives the maxima, shape <c>[batch, out]</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tape"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> &lt; 1, or the batch is too large for a backward.</exception>
    /// <exception cref="ArgumentException">A length is wrong or an input is NaN; the tape then holds no recording.</exception>
    public void MaxVoltage(TempotronTape tape, ReadOnlySpan<float> inSpikes, int batchSize, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(tape);
        Forward(inSpikes, batchSize, destination, ForwardOutput.MaxVoltage, tape);
    }

    /// <summary>
    /// Computes the output spike times as <see cref="SpikeTimes(ReadOnlySpan{float}, int, Span{float})"/> does and records
    /// what the backward needs in <paramref name="tape"/>.
    /// </summary>
    /// <param name="tape">Receives the recording (any earlier one is discarded); grows on first use.</param>
    /// <param name="inSpikes">Input spike times, shape <c>[batch, in]</c>; see <see cref="Voltage(ReadOnlySpan{float}, int, Span{float})"/>.</param>
    /// <param name="batchSize">The batch size; at least 1.</param>
    /// <param name="destination">Receives the spike times, shape <c>[batch, out]</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tape"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> &lt; 1, or the batch is too large for a backward.</exception>
    /// <exception cref="ArgumentException">A length is wrong or an input is NaN; the tape then holds no recording.</exception>
    public void SpikeTimes(TempotronTape tape, ReadOnlySpan<float> inSpikes, int batchSize, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(tape);
        Forward(inSpikes, batchSize, destination, ForwardOutput.SpikeTimes, tape);
    }

    /// <summary>
    /// Back-propagates <c>dL/dvMax</c> through the forward recorded in <paramref name="tape"/>, as
    /// <see cref="MaxVoltageBackward(ReadOnlySpan{float}, int, ReadOnlySpan{float}, Span{float}, Span{float})"/> does on
    /// the same input, without running the forward again; uses the recording up.
    /// </summary>
    /// <param name="tape">A recording of this model's forward at its current weights, not yet used.</param>
    /// <param name="upstream"><c>dL/dvMax</c>, shape <c>[batch, out]</c> with the recorded batch size.</param>
    /// <param name="weightGradient">Receives <c>dL/dW</c>, shape <c>[out, in]</c> (overwritten); empty to skip.</param>
    /// <param name="inputGradient">Receives <c>dL/dinSpikes</c>, shape <c>[batch, in]</c> (overwritten); empty to skip.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tape"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The tape holds no unused recording of this model at its current weights; nothing was written.</exception>
    /// <exception cref="ArgumentException">A length is wrong or the upstream is not finite; nothing was written and the recording is kept.</exception>
    public void MaxVoltageBackward(TempotronTape tape, ReadOnlySpan<float> upstream, Span<float> weightGradient, Span<float> inputGradient) =>
        TapeBackward(tape, upstream, weightGradient, inputGradient, UpstreamKind.MaxVoltage);

    /// <summary>
    /// Back-propagates <c>dL/dspikes</c> through the forward recorded in <paramref name="tape"/> with SpikingJelly's soft
    /// arg-max, as <see cref="SpikeTimesBackward(ReadOnlySpan{float}, int, ReadOnlySpan{float}, Span{float}, Span{float})"/>
    /// does on the same input, without running the forward again; uses the recording up.
    /// </summary>
    /// <remarks>
    /// The soft arg-max reads the voltage trace of every output with a non-zero upstream. A wide layer's spike-time
    /// forward keeps the traces of the 16-output groups holding an output that fired (those a next layer reads); for any
    /// other output with a non-zero upstream (a silent one, or after a <c>MaxVoltage</c> recording) this call computes
    /// its group's traces again from the recorded spikes, with the forward's own kernels, so the result is the same bits
    /// and costs at most one more scatter of that sample's spikes per group.
    /// </remarks>
    /// <param name="tape">A recording of this model's forward at its current weights, not yet used.</param>
    /// <param name="upstream"><c>dL/dspikes</c>, shape <c>[batch, out]</c> with the recorded batch size.</param>
    /// <param name="weightGradient">Receives <c>dL/dW</c>, shape <c>[out, in]</c> (overwritten); empty to skip.</param>
    /// <param name="inputGradient">Receives <c>dL/dinSpikes</c>, shape <c>[batch, in]</c> (overwritten); empty to skip.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tape"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The tape holds no unused recording of this model at its current weights; nothing was written.</exception>
    /// <exception cref="ArgumentException">A length is wrong or the upstream is not finite; nothing was written and the recording is kept.</exception>
    public void SpikeTimesBackward(TempotronTape tape, ReadOnlySpan<float> upstream, Span<float> weightGradient, Span<float> inputGradient) =>
        TapeBackward(tape, upstream, weightGradient, inputGradient, UpstreamKind.SpikeTimes);

    private void TapeBackward(TempotronTape tape, ReadOnlySpan<float> upstream, Span<float> weightGradient, Span<float> inputGradient, UpstreamKind kind)
    {
        ArgumentNullException.ThrowIfNull(tape);
        var batchSize = tape.RecordedBatch(this);
        PublicBackward(tape.Rows[..(batchSize * InFeatures)], batchSize, upstream, weightGradient, inputGradient, kind, tape);
    }
}
