using System.Globalization;
using TimingBased.Events;
using TimingBased.Internal;

namespace TimingBased.Neurons;

public sealed partial class Tempotron
{
    /// <summary>Computes SpikingJelly's <c>mse_loss</c> of maximum voltages against class labels.</summary>
    /// <param name="vMax">Maximum voltages, shape <c>[batch, out]</c>, batch = <c>labels.Length</c>.</param>
    /// <param name="labels">Class labels in <c>[0, out)</c>, shape <c>[batch]</c>.</param>
    /// <returns><c>sum(((vMax - vThreshold) wrong)²) / batch</c> with <c>wrong = (vMax &gt;= vThreshold) != onehot(label)</c>.</returns>
    /// <exception cref="ArgumentException">The lengths disagree or are zero, or a maximum voltage is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside <c>[0, out)</c>.</exception>
    public float MseLoss(ReadOnlySpan<float> vMax, ReadOnlySpan<int> labels) => Loss(vMax, labels, TempotronLoss.MeanSquaredError);

    /// <summary>Computes a training loss of maximum voltages against class labels.</summary>
    /// <param name="vMax">Maximum voltages, shape <c>[batch, out]</c>, batch = <c>labels.Length</c>.</param>
    /// <param name="labels">Class labels in <c>[0, out)</c>, shape <c>[batch]</c>.</param>
    /// <param name="loss">Which loss; see <see cref="TempotronLoss"/>.</param>
    /// <returns>The loss of the batch.</returns>
    /// <exception cref="ArgumentException">The lengths disagree or are zero, or a maximum voltage is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside <c>[0, out)</c>.</exception>
    public float Loss(ReadOnlySpan<float> vMax, ReadOnlySpan<int> labels, TempotronLoss loss)
    {
        ValidateLabels(labels);
        if (vMax.Length != (long)labels.Length * OutFeatures)
        {
            ThrowHelper.LengthMismatch(nameof(vMax), "[batch, out]", (long)labels.Length * OutFeatures, vMax.Length);
        }

        var bad = SpanChecks.IndexOfNonFinite(vMax);
        if (bad >= 0)
        {
            ThrowHelper.NotFiniteAt(nameof(vMax), string.Create(CultureInfo.InvariantCulture,
                $"(batch {bad / OutFeatures}, out {bad % OutFeatures})"), vMax[bad]);
        }

        double total = 0;
        for (var b = 0; b < labels.Length; b++)
        {
            for (var o = 0; o < OutFeatures; o++)
            {
                total += LossTerm(vMax[(b * OutFeatures) + o], labels[b] == o, loss, labels.Length).Loss;
            }
        }

        return (float)(loss == TempotronLoss.MeanSquaredError ? total / labels.Length : total);
    }

    /// <summary>Computes SpikingJelly's MSE loss of maximum voltages and its gradient with respect to them, for stacking layers by hand.</summary>
    /// <param name="vMax">Maximum voltages, shape <c>[batch, out]</c>, batch = <c>labels.Length</c>.</param>
    /// <param name="labels">Class labels in <c>[0, out)</c>, shape <c>[batch]</c>.</param>
    /// <param name="vMaxGradient">Receives <c>dL/dvMax</c>, shape <c>[batch, out]</c>.</param>
    /// <returns>The loss; as <see cref="LossBackward(ReadOnlySpan{float}, ReadOnlySpan{int}, TempotronLoss, Span{float})"/> with <see cref="TempotronLoss.MeanSquaredError"/>.</returns>
    /// <exception cref="ArgumentException">A length is wrong, or a maximum voltage is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside <c>[0, out)</c>.</exception>
    public float LossBackward(ReadOnlySpan<float> vMax, ReadOnlySpan<int> labels, Span<float> vMaxGradient) =>
        LossBackward(vMax, labels, TempotronLoss.MeanSquaredError, vMaxGradient);

    /// <summary>Computes a loss of maximum voltages and its gradient with respect to them, for stacking layers by hand.</summary>
    /// <param name="vMax">Maximum voltages, shape <c>[batch, out]</c>, batch = <c>labels.Length</c>.</param>
    /// <param name="labels">Class labels in <c>[0, out)</c>, shape <c>[batch]</c>.</param>
    /// <param name="vMaxGradient">Receives <c>dL/dvMax</c>, shape <c>[batch, out]</c>.</param>
    /// <param name="loss">Which loss; see <see cref="TempotronLoss"/>.</param>
    /// <returns>The loss, as <see cref="Loss"/> computes it.</returns>
    /// <remarks>MSE: <c>dL/dvMax = 2 (vMax - vThreshold) wrong / batch</c>; paper cost: <c>+1</c> for a false alarm, <c>-1</c> for a missed target.</remarks>
    /// <exception cref="ArgumentException">A length is wrong, or a maximum voltage is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside <c>[0, out)</c>.</exception>
    public float LossBackward(ReadOnlySpan<float> vMax, ReadOnlySpan<int> labels, TempotronLoss loss, Span<float> vMaxGradient)
    {
        var value = Loss(vMax, labels, loss);
        vMaxGradient = SpanChecks.Destination(vMaxGradient, nameof(vMaxGradient), "[batch, out]", vMax.Length);

        for (var b = 0; b < labels.Length; b++)
        {
            for (var o = 0; o < OutFeatures; o++)
            {
                var k = (b * OutFeatures) + o;
                vMaxGradient[k] = LossTerm(vMax[k], labels[b] == o, loss, labels.Length).Gradient;
            }
        }

        return value;
    }

    /// <summary>
    /// One neuron's share of the loss and its derivative with respect to <c>vMax</c>. MSE:
    /// <c>((vMax - θ) wrong)²</c> (divided by the batch later) and <c>2 (vMax - θ) wrong / batch</c>; paper cost:
    /// <c>|vMax - θ| wrong</c> and <c>±1</c> for a false alarm / missed target.
    /// </summary>
    private (double Loss, float Gradient) LossTerm(float vMax, bool target, TempotronLoss loss, int batch)
    {
        var fired = vMax >= _vThresholdF;
        if (fired == target)
        {
            return (0, 0f);
        }

        var diff = vMax - _vThresholdF; // float32, as SpikingJelly
        return loss == TempotronLoss.MeanSquaredError
            ? ((double)diff * diff, 2f * diff / batch)
            : (Math.Abs((double)diff), target ? -1f : 1f);
    }

    /// <summary>Checks the labels (first, so that empty labels are named) and the <c>[batch, in]</c> shape of an evaluation.</summary>
    internal void ValidateEvaluation(ReadOnlySpan<float> inSpikes, ReadOnlySpan<int> labels)
    {
        ValidateLabels(labels);
        if (!inSpikes.IsEmpty && inSpikes.Length % InFeatures == 0 && inSpikes.Length / InFeatures != labels.Length)
        {
            // Whole rows of spikes and another number of labels: the labels are what does not match.
            ThrowHelper.LengthMismatch(nameof(labels), "[batch] (one label per row of inSpikes)", inSpikes.Length / InFeatures, labels.Length);
        }

        ValidateBatch(inSpikes, labels.Length);
    }

    /// <summary>Checks an evaluation on events, in the order of the training step on events: the events, then the labels, one per pattern.</summary>
    internal void ValidateEvaluation(SpikeEvents inSpikes, ReadOnlySpan<int> labels)
    {
        ValidateEvents(inSpikes);
        ValidateLabels(labels);
        if (inSpikes.PatternCount != labels.Length)
        {
            ThrowHelper.LengthMismatch(nameof(labels), "[patterns]", inSpikes.PatternCount, labels.Length);
        }
    }

    private void ValidateLabels(ReadOnlySpan<int> labels)
    {
        if (labels.IsEmpty)
        {
            ThrowHelper.LengthMismatch(nameof(labels), "[batch] with batch >= 1", 1, 0);
        }

        for (var b = 0; b < labels.Length; b++)
        {
            if ((uint)labels[b] >= (uint)OutFeatures)
            {
                ThrowHelper.LabelOutOfRange(nameof(labels), b, labels[b], OutFeatures);
            }
        }
    }
}
