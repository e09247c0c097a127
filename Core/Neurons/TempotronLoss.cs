namespace TimingBased.Neurons;

/// <summary>The training objectives of a Tempotron classifier, computed on <c>vMax[batch, out]</c> and labels.</summary>
public enum TempotronLoss
{
    /// <summary>
    /// SpikingJelly's <c>mse_loss</c>: <c>wrong = (vMax &gt;= vThreshold) != onehot(label)</c>,
    /// <c>loss = sum(((vMax - vThreshold) wrong)²) / batch</c>.
    /// </summary>
    MeanSquaredError,

    /// <summary>
    /// The cost of Gütig &amp; Sompolinsky (2006), summed over the batch: for each wrong neuron,
    /// <c>vThreshold - vMax</c> for a missed target and <c>vMax - vThreshold</c> for a false alarm. Its gradient
    /// is the classic tempotron rule, <c>dW[o,i] = ±V0 K(t* - s_i)</c>.
    /// </summary>
    PaperCost,
}

/// <summary>The outcome of one training step.</summary>
/// <param name="Loss">The batch loss before the update.</param>
/// <param name="Correct">How many samples had <c>argmax_o vMax == label</c> before the update.</param>
public readonly record struct TrainingStepResult(float Loss, int Correct);
