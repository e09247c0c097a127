using System.Globalization;
using TimingBased.Events;
using TimingBased.Internal;
using TimingBased.Optimizers;

namespace TimingBased.Neurons;

public sealed partial class Tempotron
{
    /// <summary>What a backward's upstream gradient is the gradient of (or which loss makes it).</summary>
    internal enum UpstreamKind
    {
        MaxVoltage,
        SpikeTimes,
        Voltage,
        MeanSquaredError,
        PaperCost,
    }

    /// <summary>Computes SpikingJelly's MSE loss of <c>MaxVoltage(inSpikes)</c> against labels and its weight gradient.</summary>
    /// <param name="inSpikes">Input spike times, shape <c>[batch, in]</c>, batch = <c>labels.Length</c>.</param>
    /// <param name="labels">Class labels in <c>[0, out)</c>, shape <c>[batch]</c>.</param>
    /// <param name="weightGradient">Receives <c>dL/dW</c>, shape <c>[out, in]</c> (its first elements, summed over the batch).</param>
    /// <returns>The loss; as <see cref="LossGradient(ReadOnlySpan{float}, ReadOnlySpan{int}, TempotronLoss, Span{float})"/> with <see cref="TempotronLoss.MeanSquaredError"/>.</returns>
    /// <exception cref="ArgumentException">A length is wrong, or an input is NaN.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside <c>[0, out)</c>.</exception>
    public float LossGradient(ReadOnlySpan<float> inSpikes, ReadOnlySpan<int> labels, Span<float> weightGradient) =>
        LossGradient(inSpikes, labels, TempotronLoss.MeanSquaredError, weightGradient);

    /// <summary>Computes a loss of <c>MaxVoltage(inSpikes)</c> against labels and its gradient with respect to the weights.</summary>
    /// <param name="inSpikes">Input spike times, shape <c>[batch, in]</c>, batch = <c>labels.Length</c>.</param>
    /// <param name="labels">Class labels in <c>[0, out)</c>, shape <c>[batch]</c>.</param>
    /// <param name="weightGradient">Receives <c>dL/dW</c>, shape <c>[out, in]</c> (overwritten, summed over the batch).</param>
    /// <param name="loss">Which loss; see <see cref="TempotronLoss"/>.</param>
    /// <returns>The loss, as <see cref="Loss"/> computes it.</returns>
    /// <remarks>
    /// With <c>t*</c> the first arg-max of <c>V[b,o,·]</c> and <c>g = dL/dvMax[b,o]</c>,
    /// <c>dL/dW[o,i] = sum_b g V0 K(t* - s[b,i])</c>: for the paper cost this is the tempotron learning rule
    /// (up to the learning rate). Computed event by event: <c>O(batch (spikes out + out T))</c>.
    /// </remarks>
    /// <exception cref="ArgumentException">A length is wrong, or an input is NaN.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside <c>[0, out)</c>.</exception>
    public float LossGradient(ReadOnlySpan<float> inSpikes, ReadOnlySpan<int> labels, TempotronLoss loss, Span<float> weightGradient)
    {
        var kind = ValidateLossInputs(inSpikes, labels, loss);
        weightGradient = SpanChecks.Destination(weightGradient, nameof(weightGradient), "[out, in]", WeightCount);
        return (float)BackwardCore(new BackwardRequest { Input = inSpikes, BatchSize = labels.Length, Labels = labels, Kind = kind, PublicGradient = weightGradient }).Loss;
    }

    /// <summary>Back-propagates <c>dL/dvMax</c> through <see cref="MaxVoltage(ReadOnlySpan{float}, int, Span{float})"/>.</summary>
    /// <param name="inSpikes">Input spike times, shape <c>[batch, in]</c>.</param>
    /// <param name="batchSize">The batch size; at least 1.</param>
    /// <param name="upstream"><c>dL/dvMax</c>, shape <c>[batch, out]</c>.</param>
    /// <param name="weightGradient">Receives <c>dL/dW</c>, shape <c>[out, in]</c> (overwritten); empty to skip.</param>
    /// <param name="inputGradient">Receives <c>dL/dinSpikes</c>, shape <c>[batch, in]</c> (overwritten); empty to skip.</param>
    /// <remarks>
    /// The gradient flows to <c>V[b,o,t*]</c> at the first arg-max <c>t*</c>, as PyTorch's <c>max</c> does. With the
    /// reverse recurrences <c>GA[c] = g[c] + exp(-1/tau) GA[c+1]</c>, <c>GB[c] = g[c] + exp(-1/tauS) GB[c+1]</c> over
    /// <c>g[t] = dL/dV[b,o,t]</c> and, for an input spike at <c>s</c>, <c>c = ceil(s)</c>, <c>d = c - s</c>:
    /// <c>dL/dW[o,i] = V0 sum_b (exp(-d/tau) GA[c] - exp(-d/tauS) GB[c])</c> and
    /// <c>dL/ds[b,i] = V0 sum_o W[o,i] (exp(-d/tau) GA[c]/tau - exp(-d/tauS) GB[c]/tauS)</c>; silent inputs and
    /// inputs at or beyond <c>T</c> get 0. See <c>docs/gradients.md</c>.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> &lt; 1.</exception>
    /// <exception cref="ArgumentException">A length is wrong, or an input is NaN.</exception>
    public void MaxVoltageBackward(ReadOnlySpan<float> inSpikes, int batchSize, ReadOnlySpan<float> upstream,
        Span<float> weightGradient, Span<float> inputGradient) =>
        PublicBackward(inSpikes, batchSize, upstream, weightGradient, inputGradient, UpstreamKind.MaxVoltage);

    /// <summary>Back-propagates <c>dL/dspikes</c> through <see cref="SpikeTimes(ReadOnlySpan{float}, int, Span{float})"/> with SpikingJelly's soft arg-max.</summary>
    /// <param name="inSpikes">Input spike times, shape <c>[batch, in]</c>.</param>
    /// <param name="batchSize">The batch size; at least 1.</param>
    /// <param name="upstream"><c>dL/dspikes</c>, shape <c>[batch, out]</c>.</param>
    /// <param name="weightGradient">Receives <c>dL/dW</c>, shape <c>[out, in]</c> (overwritten); empty to skip.</param>
    /// <param name="inputGradient">Receives <c>dL/dinSpikes</c>, shape <c>[batch, in]</c> (overwritten); empty to skip.</param>
    /// <remarks>
    /// The forward value is the hard arg-max; the gradient is that of <c>sign soft</c> with
    /// <c>soft = sum_t p_t t</c>, <c>p = softmax(T V)</c> (computed stably) and <c>sign = ±1</c> as in the forward:
    /// <c>dL/dV[b,o,t] = upstream sign T p_t (t - soft)</c>, then as in <see cref="MaxVoltageBackward(ReadOnlySpan{float}, int, ReadOnlySpan{float}, Span{float}, Span{float})"/>.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> &lt; 1.</exception>
    /// <exception cref="ArgumentException">A length is wrong, or an input is NaN.</exception>
    public void SpikeTimesBackward(ReadOnlySpan<float> inSpikes, int batchSize, ReadOnlySpan<float> upstream,
        Span<float> weightGradient, Span<float> inputGradient) =>
        PublicBackward(inSpikes, batchSize, upstream, weightGradient, inputGradient, UpstreamKind.SpikeTimes);

    /// <summary>Back-propagates <c>dL/dV</c> through <see cref="Voltage(ReadOnlySpan{float}, int, Span{float})"/>.</summary>
    /// <param name="inSpikes">Input spike times, shape <c>[batch, in]</c>.</param>
    /// <param name="batchSize">The batch size; at least 1.</param>
    /// <param name="upstream"><c>dL/dV</c>, shape <c>[batch, out, T]</c>.</param>
    /// <param name="weightGradient">Receives <c>dL/dW</c>, shape <c>[out, in]</c> (overwritten); empty to skip.</param>
    /// <param name="inputGradient">Receives <c>dL/dinSpikes</c>, shape <c>[batch, in]</c> (overwritten); empty to skip.</param>
    /// <remarks>As <see cref="MaxVoltageBackward(ReadOnlySpan{float}, int, ReadOnlySpan{float}, Span{float}, Span{float})"/> with <c>g[t] = upstream[b,o,t]</c>.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> &lt; 1.</exception>
    /// <exception cref="ArgumentException">A length is wrong, or an input is NaN.</exception>
    public void VoltageBackward(ReadOnlySpan<float> inSpikes, int batchSize, ReadOnlySpan<float> upstream,
        Span<float> weightGradient, Span<float> inputGradient) =>
        PublicBackward(inSpikes, batchSize, upstream, weightGradient, inputGradient, UpstreamKind.Voltage);

    /// <summary>Applies one optimizer step to the weights from a gradient in the public <c>[out, in]</c> layout.</summary>
    /// <param name="optimizer">The optimizer; it must be used with this model only (its state follows the internal layout).</param>
    /// <param name="weightGradient"><c>dL/dW</c>, shape <c>[out, in]</c>, finite.</param>
    /// <exception cref="ArgumentNullException"><paramref name="optimizer"/> is null.</exception>
    /// <exception cref="ArgumentException">The gradient has the wrong length or a non-finite value; nothing changed.</exception>
    /// <exception cref="InvalidOperationException">The update would make a weight or optimizer state non-finite, or the model is frozen; nothing changed.</exception>
    public void ApplyGradient(IOptimizer optimizer, ReadOnlySpan<float> weightGradient)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ThrowIfFrozen();
        ValidatePublicWeights(weightGradient, nameof(weightGradient));
        var g = Scratch.Current.Gradient.Floats(Parameters.Length);
        g.Clear();
        ToInternalLayout(weightGradient, g);
        StepOptimizer(optimizer, g);
    }

    /// <summary>
    /// One optimizer step on the parameters from an internal-layout gradient: the library's optimizers split the step
    /// over <see cref="MaxDegreeOfParallelism"/> threads (the same bits); any other optimizer runs as it is.
    /// </summary>
    internal void StepOptimizer(IOptimizer optimizer, ReadOnlySpan<float> gradient) =>
        StepOptimizer(optimizer, gradient, UpdateBounds.Unknown, UpdateBounds.Unknown);

    /// <summary>
    /// <see cref="StepOptimizer(IOptimizer, ReadOnlySpan{float})"/> given upper bounds on the magnitudes of the parameters
    /// and of the finite gradient (<see cref="UpdateBounds.Unknown"/> where there is none), which let the library's
    /// optimizers skip their checking pass (<see cref="IChunkedOptimizer.StepBounded"/>). Returns an upper bound on the
    /// new parameters' magnitudes, or <see cref="UpdateBounds.Unknown"/> after any other optimizer.
    /// </summary>
    internal double StepOptimizer(IOptimizer optimizer, ReadOnlySpan<float> gradient, double maxAbsParameter, double maxAbsGradient)
    {
        ThrowIfFrozen();
        WeightsVersion++; // even a step that throws may have been partly applied by a user optimizer
        if (optimizer is IChunkedOptimizer chunked)
        {
            var degree = ParallelChunks.Worthwhile(Parameters.Length, MaxDegreeOfParallelism) ? MaxDegreeOfParallelism : 1;
            return chunked.StepBounded(Parameters, gradient, degree, maxAbsParameter, maxAbsGradient);
        }

        optimizer.Step(Parameters, gradient);
        return UpdateBounds.Unknown;
    }

    /// <summary>
    /// The training step's gradient: loss, correct count and <c>dL/dW</c> in the internal layout, with the internal
    /// index of its first non-finite element (-1 if none) and its largest magnitude (the optimizer's bound, see
    /// <see cref="UpdateBounds"/>), both found while each block of it was still in cache. Given a library optimizer
    /// and a bound on the weights' magnitudes, the update may instead be written in phase 2 (see
    /// <see cref="BeginUpdateInPhase2"/>): then <see cref="BackwardResult.CommittedBound"/> is not NaN, the weights
    /// are updated and the gradient buffer holds nothing.
    /// </summary>
    internal BackwardResult TrainingGradient(ReadOnlySpan<float> inSpikes, ReadOnlySpan<int> labels, TempotronLoss loss, Span<float> internalGradient,
        IOptimizer? optimizer = null, double maxAbsParameter = UpdateBounds.Unknown)
    {
        var kind = ValidateLossInputs(inSpikes, labels, loss);
        return BackwardCore(new BackwardRequest
        {
            Input = inSpikes,
            BatchSize = labels.Length,
            Labels = labels,
            Kind = kind,
            InternalGradient = internalGradient,
            Update = optimizer as IChunkedOptimizer,
            MaxAbsParameter = maxAbsParameter,
        });
    }

    /// <summary>
    /// <see cref="TrainingGradient(ReadOnlySpan{float}, ReadOnlySpan{int}, TempotronLoss, Span{float}, IOptimizer, double)"/> from events: each
    /// sample's spike list comes straight from its afferent-ordered integer pattern (the encoder's), or from a dense row
    /// laid out in scratch for any other pattern; bit-identical to the dense call.
    /// </summary>
    internal BackwardResult TrainingGradient(SpikeEvents inSpikes, ReadOnlySpan<int> labels, TempotronLoss loss, Span<float> internalGradient,
        Span<float> publicGradient = default, IOptimizer? optimizer = null, double maxAbsParameter = UpdateBounds.Unknown)
    {
        ValidateEvents(inSpikes);
        ValidateLabels(labels);
        if (inSpikes.PatternCount != labels.Length)
        {
            ThrowHelper.LengthMismatch(nameof(labels), "[patterns]", inSpikes.PatternCount, labels.Length);
        }

        ValidateBackwardBatch(labels.Length);
        var rows = Scratch.Current.Events.Floats((int)((long)labels.Length * InFeatures)); // filled per sample only where needed
        return BackwardCore(new BackwardRequest
        {
            Input = rows,
            BatchSize = labels.Length,
            Labels = labels,
            Kind = UpstreamOf(loss),
            InternalGradient = internalGradient,
            PublicGradient = publicGradient,
            Events = inSpikes,
            EventRows = rows,
            Update = optimizer as IChunkedOptimizer,
            MaxAbsParameter = maxAbsParameter,
        });
    }

    /// <summary>Checks the labels and the <c>[batch, in]</c> shape of a loss-gradient call; returns the loss's upstream kind.</summary>
    private UpstreamKind ValidateLossInputs(ReadOnlySpan<float> inSpikes, ReadOnlySpan<int> labels, TempotronLoss loss)
    {
        ValidateEvaluation(inSpikes, labels);
        ValidateBackwardBatch(labels.Length);
        return UpstreamOf(loss);
    }

    /// <summary>The upstream kind of a training loss.</summary>
    private static UpstreamKind UpstreamOf(TempotronLoss loss) =>
        loss == TempotronLoss.MeanSquaredError ? UpstreamKind.MeanSquaredError : UpstreamKind.PaperCost;

    private void PublicBackward(ReadOnlySpan<float> inSpikes, int batchSize, ReadOnlySpan<float> upstream,
        Span<float> weightGradient, Span<float> inputGradient, UpstreamKind kind, TempotronTape? tape = null)
    {
        ValidateBatch(inSpikes, batchSize);
        ValidateBackwardBatch(batchSize);
        var upstreamLength = kind == UpstreamKind.Voltage ? (long)batchSize * OutFeatures * T : (long)batchSize * OutFeatures;
        if (upstream.Length != upstreamLength)
        {
            ThrowHelper.LengthMismatch(nameof(upstream), kind == UpstreamKind.Voltage ? "[batch, out, T]" : "[batch, out]",
                upstreamLength, upstream.Length);
        }

        var bad = SpanChecks.IndexOfNonFinite(upstream);
        if (bad >= 0)
        {
            ThrowHelper.NotFiniteAt(nameof(upstream), string.Create(CultureInfo.InvariantCulture, $"index {bad}"), upstream[bad]);
        }

        if (!weightGradient.IsEmpty)
        {
            weightGradient = SpanChecks.Destination(weightGradient, nameof(weightGradient), "[out, in]", WeightCount);
        }

        if (!inputGradient.IsEmpty)
        {
            inputGradient = SpanChecks.Destination(inputGradient, nameof(inputGradient), "[batch, in]", (long)batchSize * InFeatures);
        }

        // A failed call writes nothing: find a NaN before phase 1 writes any input gradient. A tape's forward has
        // checked its input, and the tape holds only the rows it read.
        if (tape is null)
        {
            ThrowIfNaN(inSpikes);
        }
        else
        {
            tape.MarkUsed(); // the backward compacts the recorded spike lists
        }

        // Phase 2 copies each block of the weight gradient straight into the caller's [out, in] array.
        BackwardCore(new BackwardRequest
        {
            Input = inSpikes,
            BatchSize = batchSize,
            Upstream = upstream,
            Kind = kind,
            InputGradient = inputGradient,
            Tape = tape,
            PublicGradient = weightGradient,
        });
    }

    /// <summary>
    /// Marks in <paramref name="live"/> (1 or 0 per output) the outputs whose upstream gradient is not zero in some
    /// sample: an output that is zero everywhere has an all-zero <c>dL/dV</c> column in every sample, so its weight
    /// gradient is +0 exactly. Returns false when every output may be live (a loss, or no output is dead).
    /// </summary>
    private bool MarkLiveOutputs(ReadOnlySpan<float> upstream, int batchSize, UpstreamKind kind, Span<int> live)
    {
        if (kind is not (UpstreamKind.MaxVoltage or UpstreamKind.SpikeTimes or UpstreamKind.Voltage))
        {
            return false;
        }

        live.Clear();
        var perOutput = kind == UpstreamKind.Voltage ? T : 1;
        var outs = OutFeatures;
        var dead = outs;
        for (var b = 0; b < batchSize && dead > 0; b++)
        {
            for (var o = 0; o < outs; o++)
            {
                if (live[o] == 0 && upstream.Slice(((b * outs) + o) * perOutput, perOutput).ContainsAnyExcept(0f))
                {
                    live[o] = 1;
                    dead--;
                }
            }
        }

        return dead > 0;
    }

    /// <summary>
    /// Throws unless a backward batch's working memory fits: <c>batch * 4 * T * outStride</c> floats of backward planes
    /// and <c>batch * (2 (in + 16) + 6) + 8 * threads + out</c> ints of spike lists and counters, each at most the largest array.
    /// </summary>
    private void ValidateBackwardBatch(int batchSize)
    {
        var planes = (long)batchSize * BackwardPlaneCount * T * _outStride;
        var lists = ((long)batchSize * (SpikeListBlock.Length(InFeatures) + 1)) + (2L * GradientRangesPerThread * MaxDegreeOfParallelism) + OutFeatures;
        if (planes > AlignedFloats.MaxLength || lists > Array.MaxLength)
        {
            ThrowHelper.SizeRule(nameof(batchSize), batchSize, string.Create(CultureInfo.InvariantCulture,
                $"batch * 4 * T * outStride <= {AlignedFloats.MaxLength} and batch * (2 (in + 16) + 6) + 8 * threads + out <= {Array.MaxLength} for a backward pass (T = {T}, outStride = {_outStride}, in = {InFeatures}); split the batch"));
        }
    }
}
