namespace TimingBased.Neurons;

/// <summary>
/// What a backward computed besides its outputs: the loss, the correct count, the internal index of the weight
/// gradient's first non-finite element (-1 if none or not checked) and its largest magnitude (0 when phase 2 wrote the
/// update), phase 1's bound on the gradient's magnitudes (for a training gradient; NaN otherwise), and, when phase 2
/// wrote the optimizer's update, a bound on the new weights' magnitudes (NaN when it did not).
/// </summary>
internal readonly record struct BackwardResult(double Loss, int Correct, int FirstNonFinite, float MaxAbsGradient, double GradientBound, double CommittedBound);
