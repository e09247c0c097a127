using TimingBased.Internal;

namespace TimingBased.Optimizers;

/// <summary>Argument checks shared by the optimizers.</summary>
internal static class OptimizerChecks
{
    public static void SameLength(Span<float> parameters, ReadOnlySpan<float> gradient, int? stateLength)
    {
        if (gradient.Length != parameters.Length)
        {
            ThrowHelper.LengthMismatch(nameof(gradient), "[parameters.Length]", parameters.Length, gradient.Length);
        }

        if (stateLength is int n && n != parameters.Length)
        {
            ThrowHelper.LengthMismatch(nameof(parameters), "[the length of the first step's parameters]", n, parameters.Length);
        }
    }
}
