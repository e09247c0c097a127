using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TimingBased.Internal;

/// <summary>Vectorised scans used by input validation.</summary>
internal static class SpanChecks
{
    /// <summary>
    /// The library's rule for every span a call writes (a destination or a gradient): it must hold at least
    /// <paramref name="length"/> elements; the call writes the first <paramref name="length"/> and leaves the rest.
    /// Returns those first elements; throws, naming the parameter and its shape, when the span is shorter.
    /// </summary>
    public static Span<T> Destination<T>(Span<T> destination, string paramName, string shape, long length)
    {
        if (destination.Length < length)
        {
            ThrowHelper.DestinationTooShort(paramName, shape, length, destination.Length);
        }

        return destination[..(int)length];
    }

    /// <summary>Returns the index of the first NaN in <paramref name="values"/>, or -1 if there is none.</summary>
    public static int IndexOfNaN(ReadOnlySpan<float> values)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            ref var r = ref MemoryMarshal.GetReference(values);
            var last = values.Length - Vector<float>.Count;
            for (; i <= last; i += Vector<float>.Count)
            {
                var v = Vector.LoadUnsafe(ref r, (nuint)i);
                if (!Vector.EqualsAll(v, v))
                {
                    break;
                }
            }
        }

        for (; i < values.Length; i++)
        {
            if (float.IsNaN(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Returns the index of the first non-finite value in <paramref name="values"/>, or -1.</summary>
    public static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            // x - x is 0 for finite x and NaN for NaN and the infinities.
            ref var r = ref MemoryMarshal.GetReference(values);
            var last = values.Length - Vector<float>.Count;
            for (; i <= last; i += Vector<float>.Count)
            {
                var v = Vector.LoadUnsafe(ref r, (nuint)i);
                if (!Vector.EqualsAll(v - v, Vector<float>.Zero))
                {
                    break;
                }
            }
        }

        for (; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Returns the largest magnitude in <paramref name="values"/> (0 for none), with <paramref name="firstNonFinite"/> -1;
    /// or, if a value is not finite, <see cref="float.PositiveInfinity"/> with the index of the first such value.
    /// </summary>
    /// <remarks>
    /// With the sign bit cleared, float bit patterns order as integers the way their magnitudes do, and the infinities and
    /// NaNs come above every finite value: one integer maximum per vector (a one-cycle dependency, where a float maximum
    /// has four) finds both the largest magnitude and whether anything is not finite.
    /// </remarks>
    public static float MaxAbs(ReadOnlySpan<float> values, out int firstNonFinite)
    {
        const int Magnitude = 0x7FFF_FFFF;
        const int Infinity = 0x7F80_0000;
        var bits = MemoryMarshal.Cast<float, int>(values);
        var i = 0;
        var max = 0;
        if (Vector.IsHardwareAccelerated && bits.Length >= Vector<int>.Count)
        {
            ref var r = ref MemoryMarshal.GetReference(bits);
            var mask = new Vector<int>(Magnitude);
            var maxV = Vector<int>.Zero;
            var last = bits.Length - Vector<int>.Count;
            for (; i <= last; i += Vector<int>.Count)
            {
                maxV = Vector.Max(maxV, Vector.LoadUnsafe(ref r, (nuint)i) & mask);
            }

            for (var lane = 0; lane < Vector<int>.Count; lane++)
            {
                max = Math.Max(max, maxV[lane]);
            }
        }

        for (; i < bits.Length; i++)
        {
            max = Math.Max(max, bits[i] & Magnitude);
        }

        if (max >= Infinity)
        {
            firstNonFinite = IndexOfNonFinite(values);
            return float.PositiveInfinity;
        }

        firstNonFinite = -1;
        return BitConverter.Int32BitsToSingle(max);
    }

    /// <summary>Returns <c>a * b</c> as a <see cref="long"/>, so shape products cannot overflow silently.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Product(int a, int b) => (long)a * b;
}
