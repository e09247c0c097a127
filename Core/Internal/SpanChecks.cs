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

    /// <summary>Returns <c>a * b</c> as a <see cref="long"/>, so shape products cannot overflow silently.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Product(int a, int b) => (long)a * b;
}
