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

    /// <summary>
    /// Adam's second moment <paramref name="v"/> with subnormal lanes flushed to 0 only where the first moment
    /// <paramref name="m"/> is 0: there the update <c>m / (sqrt(v) / bias + eps)</c> is 0 whatever <c>v</c> is, while
    /// beside a non-zero <c>m</c> a flushed <c>v</c> would leave only <c>eps</c> in the denominator.
    /// </summary>
    public static Vector<float> FlushSecondMoment(Vector<float> v, Vector<float> m) =>
        Vector.ConditionalSelect(Vector.LessThan(Vector.Abs(v), new Vector<float>(MinNormal)) & Vector.Equals(m, Vector<float>.Zero), Vector<float>.Zero, v);

    /// <summary>The scalar <see cref="FlushSecondMoment(Vector{float}, Vector{float})"/>: the same value lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float FlushSecondMoment(float v, float m) => MathF.Abs(v) < MinNormal && m == 0 ? 0f : v;

    /// <summary>Returns <paramref name="value"/> if it is a valid learning rate (finite and &gt;= 0), else throws naming <c>value</c>.</summary>
    public static float LearningRate(float value)
    {
        if (!(float.IsFinite(value) && value >= 0))
        {
            ThrowHelper.NotFiniteNonNegative(nameof(value), value);
        }

        return value;
    }

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
