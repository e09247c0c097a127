using System.Globalization;
using TimingBased.Events;
using TimingBased.Internal;
using TimingBased.Optimizers;

namespace TimingBased.Neurons;

/// <summary>Trains a <see cref="Tempotron"/> classifier: forward, loss, hand-derived gradient and optimizer step in one call.</summary>
/// <remarks>
/// <para>
/// The trainer owns a gradient buffer and reuses per-thread scratch sized for the largest batch seen, so after
/// the first step of the largest batch a step allocates nothing (with <see cref="Tempotron.MaxDegreeOfParallelism"/> 1).
/// </para>
/// <para>
/// A step is all or nothing: bad input (wrong lengths, labels out of range, NaN spike times), a non-finite loss or
/// gradient, or an optimizer update that would make a weight or optimizer state non-finite throws before the
/// weights or the optimizer state change.
/// </para>
/// <para>Thread safety: a trainer is not thread-safe; use one per model and thread.</para>
/// </remarks>
public sealed class TempotronTrainer
{
    private readonly AlignedFloats _gradient;
    private float[] _vMax = [];

    /// <summary>
    /// An upper bound on the weights' magnitudes after this trainer's last step, valid while the model's
    /// <see cref="Tempotron.WeightsVersion"/> is still <see cref="_boundVersion"/>: with the gradient's maximum it lets
    /// the library's optimizers skip their checking pass (see <see cref="UpdateBounds"/>).
    /// </summary>
    private double _parameterBound = UpdateBounds.Unknown;

    private long _boundVersion = -1;

    /// <summary>Creates a trainer.</summary>
    /// <param name="model">The model to train.</param>
    /// <param name="optimizer">The optimizer; it sees the model's parameters in their internal (input-major, padded) layout.</param>
    /// <param name="loss">The loss to minimise.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="optimizer"/> is null.</exception>
    public TempotronTrainer(Tempotron model, IOptimizer optimizer, TempotronLoss loss = TempotronLoss.MeanSquaredError)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        Model = model;
        Optimizer = optimizer;
        Loss = loss;
        _gradient = new AlignedFloats(model.Parameters.Length);
    }

    /// <summary>Gets the model being trained.</summary>
    public Tempotron Model { get; }

    /// <summary>Gets the optimizer.</summary>
    public IOptimizer Optimizer { get; }

    /// <summary>Gets the loss being minimised.</summary>
    public TempotronLoss Loss { get; }

    /// <summary>Runs one training step on a batch.</summary>
    /// <param name="inSpikes">Input spike times, shape <c>[batch, in]</c>, batch = <c>labels.Length</c>.</param>
    /// <param name="labels">Class labels in <c>[0, out)</c>, shape <c>[batch]</c>.</param>
    /// <returns>The loss and the number of correct predictions (<c>argmax_o vMax == label</c>), both before the update.</returns>
    /// <exception cref="ArgumentException">A length is wrong or a spike time is NaN; nothing changed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is out of range; nothing changed.</exception>
    /// <exception cref="InvalidOperationException">The loss, the gradient or the optimizer's update is not finite, or the model is frozen; nothing changed.</exception>
    public TrainingStepResult Step(ReadOnlySpan<float> inSpikes, ReadOnlySpan<int> labels)
    {
        Model.ThrowIfFrozen();
        var gradient = _gradient.Span;
        return Apply(Model.TrainingGradient(inSpikes, labels, Loss, gradient, optimizer: Optimizer, maxAbsParameter: KnownParameterBound), gradient);
    }

    /// <summary>Gets how many steps had their update written in phase 2 (proven finite before it); for tests and diagnostics.</summary>
    internal long StepsUpdatedInPhase2 { get; private set; }

    /// <summary>The bound on the weights' magnitudes, if no one else has changed them since this trainer's last step.</summary>
    private double KnownParameterBound => _boundVersion == Model.WeightsVersion ? _parameterBound : UpdateBounds.Unknown;

    /// <summary>
    /// The step's second half: if phase 2 already wrote the update (bounds proved it finite), record the new bound;
    /// otherwise refuse a non-finite loss or gradient, then the optimizer, which checks its own update (or proves it
    /// finite from bounds on the weights and the gradient).
    /// </summary>
    private TrainingStepResult Apply(BackwardResult result, Span<float> gradient)
    {
        if (!double.IsNaN(result.CommittedBound))
        {
            StepsUpdatedInPhase2++;
            (_parameterBound, _boundVersion) = (result.CommittedBound, Model.WeightsVersion);
            return new TrainingStepResult((float)result.Loss, result.Correct);
        }

        if (!double.IsFinite(result.Loss))
        {
            ThrowHelper.NonFiniteResult("The loss");
        }

        if (result.FirstNonFinite >= 0)
        {
            ThrowHelper.NonFiniteResult(string.Create(CultureInfo.InvariantCulture, $"The weight gradient (internal element {result.FirstNonFinite})"));
        }

        var bound = Model.StepOptimizer(Optimizer, gradient, KnownParameterBound, result.MaxAbsGradient);
        (_parameterBound, _boundVersion) = (bound, Model.WeightsVersion);
        return new TrainingStepResult((float)result.Loss, result.Correct);
    }

    /// <summary>Runs one training step on a batch of event patterns; bit-identical to the dense step on the same spikes.</summary>
    /// <param name="inSpikes">One pattern per sample over the model's inputs, each afferent at most once; <c>PatternCount</c> = <c>labels.Length</c>.</param>
    /// <param name="labels">Class labels in <c>[0, out)</c>, shape <c>[batch]</c>.</param>
    /// <returns>The loss and the number of correct predictions, both before the update.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inSpikes"/> is null.</exception>
    /// <exception cref="ArgumentException">A shape is wrong or an afferent fires twice; nothing changed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is out of range; nothing changed.</exception>
    /// <exception cref="InvalidOperationException">The loss, the gradient or the optimizer's update is not finite, or the model is frozen; nothing changed.</exception>
    public TrainingStepResult Step(SpikeEvents inSpikes, ReadOnlySpan<int> labels)
    {
        Model.ThrowIfFrozen();
        var gradient = _gradient.Span;
        return Apply(Model.TrainingGradient(inSpikes, labels, Loss, gradient, optimizer: Optimizer, maxAbsParameter: KnownParameterBound), gradient);
    }

    /// <summary>Evaluates a batch of event patterns without changing anything.</summary>
    /// <param name="inSpikes">One pattern per sample; <c>PatternCount</c> = <c>labels.Length</c>.</param>
    /// <param name="labels">Class labels in <c>[0, out)</c>.</param>
    /// <returns>The loss and the number of correct predictions.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inSpikes"/> is null.</exception>
    /// <exception cref="ArgumentException">A shape is wrong or an afferent fires twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is out of range.</exception>
    /// <remarks>Runs the event forward (no dense copy of the batch); the same results as the dense overload on the same spikes.</remarks>
    public TrainingStepResult Evaluate(SpikeEvents inSpikes, ReadOnlySpan<int> labels)
    {
        Model.ValidateEvaluation(inSpikes, labels); // the events, the labels, one per pattern
        var vMax = Maxima(labels.Length);
        Model.MaxVoltageOfValidated(inSpikes, vMax);
        return Score(vMax, labels);
    }

    /// <summary>Evaluates a batch without changing anything: the loss and the number of correct predictions.</summary>
    /// <param name="inSpikes">Input spike times, shape <c>[batch, in]</c>, batch = <c>labels.Length</c>.</param>
    /// <param name="labels">Class labels in <c>[0, out)</c>, shape <c>[batch]</c>.</param>
    /// <returns>The loss and the number of samples with <c>argmax_o vMax == label</c>.</returns>
    /// <exception cref="ArgumentException">A length is wrong or a spike time is NaN.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is out of range.</exception>
    public TrainingStepResult Evaluate(ReadOnlySpan<float> inSpikes, ReadOnlySpan<int> labels)
    {
        Model.ValidateEvaluation(inSpikes, labels);
        var vMax = Maxima(labels.Length);
        Model.MaxVoltage(inSpikes, labels.Length, vMax);
        return Score(vMax, labels);
    }

    /// <summary>The trainer's <c>[batch, out]</c> maxima buffer, grown to <paramref name="batch"/> rows.</summary>
    private Span<float> Maxima(int batch)
    {
        var outs = Model.OutFeatures;
        var needed = (long)batch * outs;
        if (needed > Array.MaxLength)
        {
            ThrowHelper.SizeRule("labels", batch, string.Create(CultureInfo.InvariantCulture,
                $"batch * out <= {Array.MaxLength} (the [batch, out] maxima); out = {outs}"));
        }

        if (_vMax.Length < needed)
        {
            _vMax = new float[needed];
        }

        return _vMax.AsSpan(0, (int)needed);
    }

    /// <summary>The loss of the maxima and the number of samples whose arg-max (the first, on ties) is the label.</summary>
    private TrainingStepResult Score(ReadOnlySpan<float> vMax, ReadOnlySpan<int> labels)
    {
        var outs = Model.OutFeatures;
        var loss = Model.Loss(vMax, labels, Loss);
        var correct = 0;
        for (var b = 0; b < labels.Length; b++)
        {
            var row = vMax.Slice(b * outs, outs);
            var best = 0;
            for (var o = 1; o < outs; o++)
            {
                if (row[o] > row[best])
                {
                    best = o;
                }
            }

            correct += best == labels[b] ? 1 : 0;
        }

        return new TrainingStepResult(loss, correct);
    }
}
