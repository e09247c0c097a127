using TimingBased.Internal;

namespace TimingBased.Neurons;

/// <summary>
/// Turns a classifier's per-output scores into a class: the output with the largest score, the rule by which
/// <see cref="TempotronTrainer"/> counts correct predictions (<c>argmax_o vMax</c>).
/// </summary>
/// <remarks>
/// Ties go to the lowest output index. A NaN score never wins (it compares false), so a row of NaN, or of
/// negative infinity, predicts output 0. PyTorch's <c>argmax</c> also gives the first of equal maxima, but lets a NaN
/// win; the library keeps the trainer's rule so that a prediction and the trainer's accuracy always agree.
/// </remarks>
public static class Prediction
{
    /// <summary>Returns the index of the largest score (ties: the lowest index).</summary>
    /// <param name="scores">One sample's scores, for example its peak voltages; at least one.</param>
    /// <returns>The predicted class.</returns>
    /// <exception cref="ArgumentException"><paramref name="scores"/> is empty.</exception>
    public static int Class(ReadOnlySpan<float> scores)
    {
        if (scores.IsEmpty)
        {
            throw new ArgumentException("scores must hold at least one score; it is empty.", nameof(scores));
        }

        return ClassOf(scores);
    }

    /// <summary>
    /// Returns the class of an <see cref="ExactTempotron"/> evaluation: the output with the largest peak voltage
    /// <see cref="ExactTempotronOutput.VMax"/> (ties: the lowest index), the grid model's rule on exact peaks.
    /// </summary>
    /// <param name="outputs">One pattern's results, one per output; at least one.</param>
    /// <returns>The predicted class.</returns>
    /// <exception cref="ArgumentException"><paramref name="outputs"/> is empty.</exception>
    public static int Class(ReadOnlySpan<ExactTempotronOutput> outputs)
    {
        if (outputs.IsEmpty)
        {
            throw new ArgumentException("outputs must hold at least one result; it is empty.", nameof(outputs));
        }

        var best = double.NegativeInfinity;
        var predicted = 0;
        for (var o = 0; o < outputs.Length; o++)
        {
            if (outputs[o].VMax > best)
            {
                best = outputs[o].VMax;
                predicted = o;
            }
        }

        return predicted;
    }

    /// <summary>Writes the predicted class of each row of <paramref name="scores"/>.</summary>
    /// <param name="scores">Scores, shape <c>[batch, outputs]</c> row-major: a positive multiple of <paramref name="outputs"/>.</param>
    /// <param name="outputs">The number of outputs per row; at least 1.</param>
    /// <param name="destination">At least <c>batch</c> ints.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outputs"/> is below 1.</exception>
    /// <exception cref="ArgumentException">A length is wrong.</exception>
    public static void Classes(ReadOnlySpan<float> scores, int outputs, Span<int> destination)
    {
        if (outputs < 1)
        {
            ThrowHelper.SizeTooSmall(nameof(outputs), outputs, 1);
        }

        if (scores.IsEmpty || scores.Length % outputs != 0)
        {
            ThrowHelper.NotPositiveMultiple(nameof(scores), "[batch, outputs]", scores.Length, outputs, "outputs");
        }

        var batch = scores.Length / outputs;
        SpanChecks.Destination(destination, nameof(destination), "[batch]", batch);

        for (var b = 0; b < batch; b++)
        {
            destination[b] = ClassOf(scores.Slice(b * outputs, outputs));
        }
    }

    /// <summary>The rule itself: the first strict maximum, starting below every finite score.</summary>
    internal static int ClassOf(ReadOnlySpan<float> scores)
    {
        var best = float.NegativeInfinity;
        var predicted = 0;
        for (var o = 0; o < scores.Length; o++)
        {
            if (scores[o] > best)
            {
                best = scores[o];
                predicted = o;
            }
        }

        return predicted;
    }
}
