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

    /// <summary>Returns <paramref name="length"/> floats of a scratch array, allocated on first use (or a length change) only.</summary>
    public static Span<float> Scratch(ref float[] array, int length)
    {
        if (array.Length != length)
        {
            array = new float[length];
        }

        return array;
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> unless every new weight and state value is finite.</summary>
    public static void ThrowIfNotFinite(ReadOnlySpan<float> weights, ReadOnlySpan<float> state, string optimizer)
    {
        if (SpanChecks.IndexOfNonFinite(weights) >= 0 || SpanChecks.IndexOfNonFinite(state) >= 0)
        {
            ThrowHelper.NonFiniteResult($"The {optimizer} update (a new weight or optimizer state value)");
        }
    }
}
