using System.Numerics;
using System.Runtime.CompilerServices;
using TimingBased.Internal;

namespace TimingBased.Optimizers;

/// <summary>Argument checks and the subnormal flush shared by the optimizers.</summary>
internal static class OptimizerChecks
{
    /// <summary>The smallest positive normal float32; optimizer state smaller in magnitude is stored as zero.</summary>
    public const float MinNormal = 1.17549435E-38f;

    /// <summary>
    /// <paramref name="x"/>, or 0 where it is subnormal: x86 computes on subnormal floats about a hundred times slower,
    /// and a moment that decays under zero gradients gets there (Adam's first moment after about 600 steps).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> FlushSubnormal(Vector<float> x) =>
        Vector.ConditionalSelect(Vector.LessThan(Vector.Abs(x), new Vector<float>(MinNormal)), Vector<float>.Zero, x);

    /// <summary>The scalar <see cref="FlushSubnormal(Vector{float})"/>: the same value lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float FlushSubnormal(float x) => MathF.Abs(x) < MinNormal ? 0f : x;

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
