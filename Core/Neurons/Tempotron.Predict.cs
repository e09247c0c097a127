using TimingBased.Events;
using TimingBased.Internal;

namespace TimingBased.Neurons;

// Classification: the peak voltages of a forward pass turned into classes by Prediction's rule.
public sealed partial class Tempotron
{
    /// <summary>Classifies one sample: the output with the largest peak voltage (ties: the lowest index; see <see cref="Prediction"/>).</summary>
    /// <param name="inSpikes">The sample's input spike times, shape <c>[in]</c> (as <see cref="MaxVoltage(ReadOnlySpan{float}, int, Span{float})"/> takes them).</param>
    /// <returns>The predicted class, in <c>[0, out)</c>.</returns>
    /// <exception cref="ArgumentException">The length is not <c>in</c> or a spike time is NaN.</exception>
    /// <remarks>Allocates nothing once this thread has run a forward of this size (per-thread scratch).</remarks>
    public int Predict(ReadOnlySpan<float> inSpikes)
    {
        Span<int> one = stackalloc int[1];
        Predict(inSpikes, 1, one);
        return one[0];
    }

    /// <summary>Classifies a batch: for each sample, the output with the largest peak voltage (ties: the lowest index).</summary>
    /// <param name="inSpikes">Input spike times, shape <c>[batch, in]</c>.</param>
    /// <param name="batchSize">The batch size; at least 1.</param>
    /// <param name="destination">At least <c>batch</c> ints.</param>
    /// <exception cref="ArgumentException">A length is wrong or a spike time is NaN.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    public void Predict(ReadOnlySpan<float> inSpikes, int batchSize, Span<int> destination)
    {
        CheckPredictionDestination(batchSize, destination);
        if (inSpikes.Length != (long)batchSize * InFeatures)
        {
            ThrowHelper.LengthMismatch(nameof(inSpikes), "[batch, in]", (long)batchSize * InFeatures, inSpikes.Length);
        }

        var peaks = Scratch.Current.Peaks.Floats(batchSize * OutFeatures);
        MaxVoltage(inSpikes, batchSize, peaks);
        Prediction.Classes(peaks, OutFeatures, destination);
    }

    /// <summary>Classifies a batch of event patterns, as the dense overload does.</summary>
    /// <param name="inSpikes">One pattern per sample over the model's inputs.</param>
    /// <param name="destination">At least <c>PatternCount</c> ints.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inSpikes"/> is null.</exception>
    /// <exception cref="ArgumentException">A shape is wrong or an afferent fires twice.</exception>
    public void Predict(SpikeEvents inSpikes, Span<int> destination)
    {
        ArgumentNullException.ThrowIfNull(inSpikes);
        CheckPredictionDestination(inSpikes.PatternCount, destination);
        var peaks = Scratch.Current.Peaks.Floats(inSpikes.PatternCount * OutFeatures);
        MaxVoltage(inSpikes, peaks);
        Prediction.Classes(peaks, OutFeatures, destination);
    }

    private void CheckPredictionDestination(int batchSize, Span<int> destination)
    {
        if (batchSize < 1)
        {
            ThrowHelper.SizeTooSmall(nameof(batchSize), batchSize, 1);
        }

        if ((long)batchSize * OutFeatures > Array.MaxLength)
        {
            ThrowHelper.SizeRule(nameof(batchSize), batchSize, $"batch * out <= {Array.MaxLength} (the peaks of one call); out = {OutFeatures}");
        }

        SpanChecks.Destination(destination, nameof(destination), "[batch]", batchSize);
    }
}
