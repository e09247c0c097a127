using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TimingBased.Internal;

/// <summary>Vectorised scans used by input validation.</summary>
internal static class SpanChecks
{
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
    public static float MaxAbs(ReadOnlySpan<float> values, out int firstNonFinite)
    {
        var i = 0;
        var max = 0f;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            // x - x is 0 for finite x and NaN for NaN and the infinities; the test of a whole vector per step costs
            // what the plain non-finite scan did, and the maximum rides along.
            ref var r = ref MemoryMarshal.GetReference(values);
            var last = values.Length - Vector<float>.Count;
            var maxV = Vector<float>.Zero;
            for (; i <= last; i += Vector<float>.Count)
            {
                var v = Vector.LoadUnsafe(ref r, (nuint)i);
                if (!Vector.EqualsAll(v - v, Vector<float>.Zero))
                {
                    break;
                }

                maxV = Vector.MaxNative(maxV, Vector.Abs(v));
            }

            for (var lane = 0; lane < Vector<float>.Count; lane++)
            {
                max = Math.Max(max, maxV[lane]);
            }
        }

        for (; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                firstNonFinite = i;
                return float.PositiveInfinity;
            }

            max = Math.Max(max, Math.Abs(values[i]));
        }

        firstNonFinite = -1;
        return max;
    }

    /// <summary>Returns <c>a * b</c> as a <see cref="long"/>, so shape products cannot overflow silently.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Product(int a, int b) => (long)a * b;
}
