using System.Globalization;
using TimingBased.Events;
using TimingBased.Internal;
using TimingBased.Neurons.Kernels;

namespace TimingBased.Neurons;

// The grid model on spike events: a <see cref="SpikeEvents"/> batch instead of a dense <c>[batch, in]</c> array, with
// results bit-identical to the dense path on the same spikes.
// <remarks>
// The grid model holds one spike per input (SpikingJelly's input is one time per input), so a pattern may list each
// afferent at most once; times are read as float32, as the dense input holds them (the encoder's and
// <see cref="SpikeEvents.AddDense"/>'s times are float32 exactly). A pattern in strictly increasing afferent order with
// integer times (the encoder's output) goes straight into the spike lists; any other is laid out as a dense row in
// per-thread scratch first. The backward calls and the trainer lay the batch out densely and run the dense path.
// </remarks>
public sealed partial class Tempotron
{
    /// <summary>Computes the voltage traces for a batch of event patterns, <c>[patterns, out, T]</c>; see the dense overload.</summary>
    /// <param name="inSpikes">One pattern per sample, over <see cref="InFeatures"/> afferents, each afferent at most once.</param>
    /// <param name="destination">Receives the voltages, shape <c>[patterns, out, T]</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inSpikes"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// The patterns are over another number of afferents, there are none, an afferent fires twice in a pattern, or the
    /// destination is too short; nothing was written.
    /// </exception>
    public void Voltage(SpikeEvents inSpikes, Span<float> destination) => ForwardEvents(inSpikes, destination, ForwardOutput.Voltage);

    /// <summary>Computes the maximum voltages for a batch of event patterns, <c>[patterns, out]</c>; see the dense overload.</summary>
    /// <param name="inSpikes">One pattern per sample, over <see cref="InFeatures"/> afferents, each afferent at most once.</param>
    /// <param name="destination">Receives the maxima, shape <c>[patterns, out]</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inSpikes"/> is null.</exception>
    /// <exception cref="ArgumentException">As <see cref="Voltage(SpikeEvents, Span{float})"/>.</exception>
    public void MaxVoltage(SpikeEvents inSpikes, Span<float> destination) => ForwardEvents(inSpikes, destination, ForwardOutput.MaxVoltage);

    /// <summary>Computes the output spike times for a batch of event patterns, <c>[patterns, out]</c>; see the dense overload.</summary>
    /// <param name="inSpikes">One pattern per sample, over <see cref="InFeatures"/> afferents, each afferent at most once.</param>
    /// <param name="destination">Receives the spike times, shape <c>[patterns, out]</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inSpikes"/> is null.</exception>
    /// <exception cref="ArgumentException">As <see cref="Voltage(SpikeEvents, Span{float})"/>.</exception>
    public void SpikeTimes(SpikeEvents inSpikes, Span<float> destination) => ForwardEvents(inSpikes, destination, ForwardOutput.SpikeTimes);

    /// <summary>Back-propagates <c>dL/dvMax</c> for event patterns; see the dense overload.</summary>
    /// <param name="inSpikes">One pattern per sample.</param>
    /// <param name="upstream"><c>dL/dvMax</c>, shape <c>[patterns, out]</c>.</param>
    /// <param name="weightGradient">Receives <c>dL/dW</c>, <c>[out, in]</c>; empty to skip.</param>
    /// <param name="inputGradient">Receives <c>dL/d(spike time)</c> per afferent, dense <c>[patterns, in]</c> (0 for silent afferents); empty to skip.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inSpikes"/> is null.</exception>
    /// <exception cref="ArgumentException">A shape is wrong, an afferent fires twice, or the upstream is not finite; nothing was written.</exception>
    public void MaxVoltageBackward(SpikeEvents inSpikes, ReadOnlySpan<float> upstream, Span<float> weightGradient, Span<float> inputGradient) =>
        MaxVoltageBackward(DenseFromEvents(inSpikes), inSpikes.PatternCount, upstream, weightGradient, inputGradient);

    /// <summary>Back-propagates <c>dL/dspikes</c> through the spike times for event patterns; see the dense overload.</summary>
    /// <param name="inSpikes">One pattern per sample.</param>
    /// <param name="upstream"><c>dL/dspikes</c>, shape <c>[patterns, out]</c>.</param>
    /// <param name="weightGradient">Receives <c>dL/dW</c>, <c>[out, in]</c>; empty to skip.</param>
    /// <param name="inputGradient">Receives <c>dL/d(spike time)</c>, dense <c>[patterns, in]</c>; empty to skip.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inSpikes"/> is null.</exception>
    /// <exception cref="ArgumentException">As <see cref="MaxVoltageBackward(SpikeEvents, ReadOnlySpan{float}, Span{float}, Span{float})"/>.</exception>
    public void SpikeTimesBackward(SpikeEvents inSpikes, ReadOnlySpan<float> upstream, Span<float> weightGradient, Span<float> inputGradient) =>
        SpikeTimesBackward(DenseFromEvents(inSpikes), inSpikes.PatternCount, upstream, weightGradient, inputGradient);

    /// <summary>Back-propagates <c>dL/dV</c> for event patterns; see the dense overload.</summary>
    /// <param name="inSpikes">One pattern per sample.</param>
    /// <param name="upstream"><c>dL/dV</c>, shape <c>[patterns, out, T]</c>.</param>
    /// <param name="weightGradient">Receives <c>dL/dW</c>, <c>[out, in]</c>; empty to skip.</param>
    /// <param name="inputGradient">Receives <c>dL/d(spike time)</c>, dense <c>[patterns, in]</c>; empty to skip.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inSpikes"/> is null.</exception>
    /// <exception cref="ArgumentException">As <see cref="MaxVoltageBackward(SpikeEvents, ReadOnlySpan{float}, Span{float}, Span{float})"/>.</exception>
    public void VoltageBackward(SpikeEvents inSpikes, ReadOnlySpan<float> upstream, Span<float> weightGradient, Span<float> inputGradient) =>
        VoltageBackward(DenseFromEvents(inSpikes), inSpikes.PatternCount, upstream, weightGradient, inputGradient);

    /// <summary>Computes SpikingJelly's MSE loss of the maximum voltages of event patterns and its weight gradient; see the dense overload.</summary>
    /// <param name="inSpikes">One pattern per sample; <c>PatternCount</c> = <c>labels.Length</c>.</param>
    /// <param name="labels">Class labels in <c>[0, out)</c>.</param>
    /// <param name="weightGradient">Receives <c>dL/dW</c>, <c>[out, in]</c>.</param>
    /// <returns>The loss.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inSpikes"/> is null.</exception>
    /// <exception cref="ArgumentException">A shape is wrong or an afferent fires twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is out of range.</exception>
    public float LossGradient(SpikeEvents inSpikes, ReadOnlySpan<int> labels, Span<float> weightGradient) =>
        LossGradient(inSpikes, labels, TempotronLoss.MeanSquaredError, weightGradient);

    /// <summary>Computes a loss of the maximum voltages of event patterns and its weight gradient; see the dense overload.</summary>
    /// <param name="inSpikes">One pattern per sample; <c>PatternCount</c> = <c>labels.Length</c>.</param>
    /// <param name="labels">Class labels in <c>[0, out)</c>.</param>
    /// <param name="weightGradient">Receives <c>dL/dW</c>, <c>[out, in]</c>.</param>
    /// <param name="loss">Which loss.</param>
    /// <returns>The loss.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inSpikes"/> is null.</exception>
    /// <exception cref="ArgumentException">A shape is wrong or an afferent fires twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is out of range.</exception>
    public float LossGradient(SpikeEvents inSpikes, ReadOnlySpan<int> labels, TempotronLoss loss, Span<float> weightGradient)
    {
        weightGradient = SpanChecks.Destination(weightGradient, nameof(weightGradient), "[out, in]", WeightCount);
        var total = TrainingGradient(inSpikes, labels, loss, default, weightGradient).Loss;
        return (float)total;
    }

    /// <summary>
    /// Lays the patterns out as a dense <c>[patterns, in]</c> spike-time array in per-thread scratch (silent afferents
    /// -1), after checking them; the span is valid until the next call on this thread.
    /// </summary>
    internal ReadOnlySpan<float> DenseFromEvents(SpikeEvents inSpikes)
    {
        ValidateEvents(inSpikes);
        var dense = Scratch.Current.Events.Floats((int)((long)inSpikes.PatternCount * InFeatures));
        for (var p = 0; p < inSpikes.PatternCount; p++)
        {
            inSpikes[p].FillDense(dense.Slice(p * InFeatures, InFeatures));
        }

        return dense;
    }

    private void ForwardEvents(SpikeEvents inSpikes, Span<float> destination, ForwardOutput kind)
    {
        ValidateEvents(inSpikes);
        var batch = inSpikes.PatternCount;
        var required = kind == ForwardOutput.Voltage ? (long)batch * OutFeatures * T : (long)batch * OutFeatures;
        SpanChecks.Destination(destination, nameof(destination), kind == ForwardOutput.Voltage ? "[patterns, out, T]" : "[patterns, out]", required);

        RunForwardEvents(inSpikes, destination, kind);
    }

    /// <summary>
    /// The maxima of event patterns already checked by <see cref="ValidateEvents"/> (the trainer's evaluation, which
    /// checks them with its labels), into a destination of <c>[patterns, out]</c>.
    /// </summary>
    internal void MaxVoltageOfValidated(SpikeEvents inSpikes, Span<float> destination) =>
        RunForwardEvents(inSpikes, destination, ForwardOutput.MaxVoltage);

    /// <summary>The event forward once everything that can fail has been checked: the samples write their results directly.</summary>
    private void RunForwardEvents(SpikeEvents inSpikes, Span<float> destination, ForwardOutput kind)
    {
        var batch = inSpikes.PatternCount;
        if (UseTiledForward)
        {
            ParallelBatch.Run(this, GroupCount(batch), new BatchSpans { Destination = destination },
                static (self, group, _, in spans, work) => self.ForwardGroup(group, spans, work.Kind, work.Events.PatternCount, work.Events), (Events: inSpikes, Kind: kind));
            return;
        }

        ParallelBatch.Run(this, batch, new BatchSpans { Destination = destination },
            static (self, b, _, in spans, work) => self.ForwardSample(b, spans, work.Kind, work.Events), (Events: inSpikes, Kind: kind));
    }

    /// <summary>
    /// <see cref="SampleVoltage"/> for an event pattern: its spike lists (see <see cref="CollectFromEvents"/>, which
    /// writes <paramref name="row"/> only when the pattern needs a dense row) and its voltages into <paramref name="v"/>
    /// (empty: <c>buffers.V</c>).
    /// </summary>
    private int SampleFromEvents(SpikePattern pattern, Span<float> row, int b, in SampleBuffers buffers, Span<int> indices, Span<int> times, out bool integerTimes,
        Span<float> v = default)
    {
        var count = CollectFromEvents(pattern, row, b, indices, times, out integerTimes);
        IntegrateSample(row, buffers, indices, times, count, integerTimes, v); // the row is read only for fractional times
        return count;
    }

    /// <summary>
    /// Lists a pattern's spiking inputs and their truncated times: straight from the events when they are in afferent
    /// order with integer times, else through the dense <paramref name="row"/>, which is written only then (and which
    /// the integration of a fractional-time sample reads).
    /// </summary>
    private int CollectFromEvents(SpikePattern pattern, Span<float> row, int b, Span<int> indices, Span<int> times, out bool integerTimes)
    {
        // Strictly increasing afferents in [0, in) are at most `in` events. The flag is only trusted together with that
        // bound, read from the span the lists are built from: a pattern whose flag is wrong (a race with Clear and
        // AddPattern on the same SpikeEvents, say) takes the dense path, whose writes are bounds-checked.
        if (pattern.IsAfferentOrdered && pattern.Count <= InFeatures)
        {
            var count = SpikeLists.FromEvents(Path, pattern.Afferents, pattern.Times, T, indices, times, out integerTimes);
            if (integerTimes)
            {
                return count;
            }
        }

        pattern.FillDense(row);
        return CollectSpikes(row, b, indices, times, out integerTimes, nanAt: default); // validated events hold no NaN
    }

    /// <summary>Throws unless the batch is over <see cref="InFeatures"/> afferents, not empty, and lists each afferent at most once per pattern.</summary>
    private void ValidateEvents(SpikeEvents inSpikes)
    {
        ArgumentNullException.ThrowIfNull(inSpikes);
        if (inSpikes.AfferentCount != InFeatures)
        {
            ThrowHelper.ElementRule(nameof(inSpikes), string.Create(CultureInfo.InvariantCulture,
                $"inSpikes must be over in = {InFeatures} afferents; it is over {inSpikes.AfferentCount}."));
        }

        if (inSpikes.PatternCount < 1)
        {
            ThrowHelper.ElementRule(nameof(inSpikes), "inSpikes must hold at least one completed pattern; it holds none.");
        }

        for (var p = 0; p < inSpikes.PatternCount; p++)
        {
            var repeated = inSpikes[p].FirstRepeatedAfferent(InFeatures);
            if (repeated >= 0)
            {
                ThrowHelper.ElementRule(nameof(inSpikes), string.Create(CultureInfo.InvariantCulture,
                    $"Pattern {p} lists afferent {repeated} more than once; the grid model holds one spike time per input."));
            }
        }
    }
}
