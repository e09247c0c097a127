using System.Numerics;
using System.Runtime.CompilerServices;
using TimingBased.Internal;

namespace TimingBased.Optimizers;

/// <summary>
/// Upper bounds on the magnitudes an optimizer step computes, in double precision, from bounds on its inputs: where
/// they prove every new value finite, the step skips its checking pass (a full read of the parameters and the gradient,
/// about a tenth of a 12544 × 10 training step) and stays all or nothing.
/// </summary>
/// <remarks>
/// Each float32 operation on finite operands rounds to nearest with relative error at most 2^-24 and cannot overflow
/// while its exact result stays below <see cref="Limit"/>; <see cref="Up(double)"/> widens a bound by 2^-20 per operation, more
/// than any such rounding. A bound that is NaN, negative or not below <see cref="Limit"/> proves nothing, and the
/// optimizer runs its checking pass, which measures exact maxima to bound the next step from.
/// </remarks>
internal static class UpdateBounds
{
    /// <summary>A quarter of <see cref="float.MaxValue"/>: a value below it, rounded a few times, is still finite.</summary>
    public const double Limit = float.MaxValue / 4.0;

    /// <summary>The bound of an unknown magnitude: proves nothing.</summary>
    public const double Unknown = double.NaN;

    /// <summary>The relative widening per float32 operation, 2^-20 (a rounding is at most 2^-24).</summary>
    private const double PerOperation = 1.0 / (1 << 20);

    /// <summary><paramref name="bound"/> widened for the rounding of one float32 operation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Up(double bound) => bound * (1 + PerOperation);

    /// <summary><paramref name="bound"/> widened for the roundings of <paramref name="operations"/> float32 operations in a row.</summary>
    public static double Up(double bound, int operations) => bound * Math.Pow(1 + PerOperation, operations);

    /// <summary>Whether every one of <paramref name="bounds"/> is a usable bound: not NaN, at least 0 and below <see cref="Limit"/>.</summary>
    public static bool Proven(params ReadOnlySpan<double> bounds)
    {
        foreach (var b in bounds)
        {
            if (!(b >= 0 && b < Limit))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// One pass of an optimizer's update over <paramref name="degreeOfParallelism"/> contiguous chunks of
    /// <c>[0, length)</c> (<see cref="ParallelChunks.All"/>, chunks aligned to <see cref="IChunkedOptimizer.ChunkAlignment"/>),
    /// <paramref name="pass"/><c>(start, length)</c> on each: finite if every chunk was, each maximum the largest found.
    /// </summary>
    public static UpdatePass InChunks(int length, int degreeOfParallelism, Func<int, int, UpdatePass> pass)
    {
        float maxParameter = 0, maxState = 0, maxSecondState = 0;
        var finite = ParallelChunks.All(length, degreeOfParallelism, IChunkedOptimizer.ChunkAlignment, (start, count) =>
        {
            var chunk = pass(start, count);
            RaiseTo(ref maxParameter, chunk.MaxParameter);
            RaiseTo(ref maxState, chunk.MaxState);
            RaiseTo(ref maxSecondState, chunk.MaxSecondState);
            return chunk.Finite;
        });
        return new UpdatePass(finite, maxParameter, maxState, maxSecondState);
    }

    /// <summary>Raises <paramref name="location"/> to <paramref name="value"/> if that is larger, atomically (the maxima of parallel chunks).</summary>
    private static void RaiseTo(ref float location, float value)
    {
        var seen = Volatile.Read(ref location);
        while (value > seen)
        {
            var previous = Interlocked.CompareExchange(ref location, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

    /// <summary>The largest lane of <paramref name="maximum"/> (lanes of magnitudes).</summary>
    public static float Max(Vector<float> maximum)
    {
        var max = 0f;
        for (var lane = 0; lane < Vector<float>.Count; lane++)
        {
            max = Math.Max(max, maximum[lane]);
        }

        return max;
    }

    /// <summary>The lane-wise maximum of <paramref name="maximum"/> and <c>|x|</c> (for finite lanes; a non-finite lane fails the pass anyway).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> MaxAbs(Vector<float> maximum, Vector<float> x) => Vector.MaxNative(maximum, Vector.Abs(x));
}

/// <summary>What one pass of an optimizer's update found: whether every new value is finite, and the largest magnitudes of the new parameters and of its (up to two) state vectors.</summary>
internal readonly record struct UpdatePass(bool Finite, float MaxParameter, float MaxState, float MaxSecondState);
