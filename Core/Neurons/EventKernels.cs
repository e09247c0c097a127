using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TimingBased.Neurons;

/// <summary>
/// The event-driven building blocks of the Tempotron: collecting the spiking inputs of a sample, adding
/// weight rows into per-time accumulators, and the forward and reverse exponential recurrences over time.
/// All rows are <c>outStride</c> floats long (the output count rounded up to the vector width), so every
/// row operation is whole vectors, or a plain loop when vectors are not hardware-accelerated.
/// </summary>
internal static class EventKernels
{
    /// <summary>The row stride for <paramref name="outFeatures"/> outputs: a multiple of the vector width.</summary>
    public static int OutStride(int outFeatures)
    {
        if (!Vector.IsHardwareAccelerated)
        {
            return outFeatures;
        }

        var w = Vector<float>.Count;
        return (outFeatures + w - 1) / w * w;
    }

    /// <summary>
    /// Writes the indices <c>i</c> with <c>0 &lt;= row[i] &lt; window</c> (so <c>-0</c> counts, NaN does not) in
    /// increasing order. Returns their count, or <c>~i</c> (negative) for the first NaN at <c>i</c>.
    /// </summary>
    public static int CollectSpikes(ReadOnlySpan<float> row, float window, Span<int> indices)
    {
        var count = 0;
        var i = 0;
        ref var r = ref MemoryMarshal.GetReference(row);
        if (Vector256.IsHardwareAccelerated && row.Length >= Vector256<float>.Count)
        {
            var wv = Vector256.Create(window);
            for (; i <= row.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref r, (nuint)i);
                if (!Vector256.EqualsAll(v, v))
                {
                    return ~(i + IndexOfNaN(row.Slice(i, Vector256<float>.Count)));
                }

                var bits = Vector256.ExtractMostSignificantBits(
                    Vector256.GreaterThanOrEqual(v, Vector256<float>.Zero) & Vector256.LessThan(v, wv));
                while (bits != 0)
                {
                    indices[count++] = i + BitOperations.TrailingZeroCount(bits);
                    bits &= bits - 1;
                }
            }
        }
        else if (Vector128.IsHardwareAccelerated && row.Length >= Vector128<float>.Count)
        {
            var wv = Vector128.Create(window);
            for (; i <= row.Length - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                var v = Vector128.LoadUnsafe(ref r, (nuint)i);
                if (!Vector128.EqualsAll(v, v))
                {
                    return ~(i + IndexOfNaN(row.Slice(i, Vector128<float>.Count)));
                }

                var bits = Vector128.ExtractMostSignificantBits(
                    Vector128.GreaterThanOrEqual(v, Vector128<float>.Zero) & Vector128.LessThan(v, wv));
                while (bits != 0)
                {
                    indices[count++] = i + BitOperations.TrailingZeroCount(bits);
                    bits &= bits - 1;
                }
            }
        }

        for (; i < row.Length; i++)
        {
            var s = row[i];
            if (s >= 0f && s < window)
            {
                indices[count++] = i;
            }
            else if (float.IsNaN(s))
            {
                return ~i;
            }
        }

        return count;
    }

    private static int IndexOfNaN(ReadOnlySpan<float> values)
    {
        for (var k = 0; k < values.Length; k++)
        {
            if (float.IsNaN(values[k]))
            {
                return k;
            }
        }

        return -1;
    }

    /// <summary><c>destination[k] += source[k]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add(Span<float> destination, ReadOnlySpan<float> source)
    {
        if (Vector.IsHardwareAccelerated)
        {
            ref var d = ref MemoryMarshal.GetReference(destination);
            ref var s = ref MemoryMarshal.GetReference(source);
            for (nuint k = 0; k < (nuint)destination.Length; k += (nuint)Vector<float>.Count)
            {
                (Vector.LoadUnsafe(ref d, k) + Vector.LoadUnsafe(ref s, k)).StoreUnsafe(ref d, k);
            }
        }
        else
        {
            for (var k = 0; k < destination.Length; k++)
            {
                destination[k] += source[k];
            }
        }
    }

    /// <summary><c>destination[k] += scale * source[k]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddScaled(Span<float> destination, ReadOnlySpan<float> source, float scale)
    {
        if (Vector.IsHardwareAccelerated)
        {
            ref var d = ref MemoryMarshal.GetReference(destination);
            ref var s = ref MemoryMarshal.GetReference(source);
            var sv = new Vector<float>(scale);
            for (nuint k = 0; k < (nuint)destination.Length; k += (nuint)Vector<float>.Count)
            {
                (Vector.LoadUnsafe(ref d, k) + (sv * Vector.LoadUnsafe(ref s, k))).StoreUnsafe(ref d, k);
            }
        }
        else
        {
            for (var k = 0; k < destination.Length; k++)
            {
                destination[k] += scale * source[k];
            }
        }
    }

    /// <summary><c>destination[k] += sa * a[k] - sb * b[k]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddCombination(Span<float> destination, ReadOnlySpan<float> a, float sa, ReadOnlySpan<float> b, float sb)
    {
        for (var k = 0; k < destination.Length; k++)
        {
            destination[k] += (sa * a[k]) - (sb * b[k]);
        }
    }

    /// <summary>Returns <c>sum_k a[k] b[k]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (Vector.IsHardwareAccelerated)
        {
            ref var ra = ref MemoryMarshal.GetReference(a);
            ref var rb = ref MemoryMarshal.GetReference(b);
            var acc = Vector<float>.Zero;
            for (nuint k = 0; k < (nuint)a.Length; k += (nuint)Vector<float>.Count)
            {
                acc += Vector.LoadUnsafe(ref ra, k) * Vector.LoadUnsafe(ref rb, k);
            }

            return Vector.Sum(acc);
        }

        var sum = 0f;
        for (var k = 0; k < a.Length; k++)
        {
            sum += a[k] * b[k];
        }

        return sum;
    }

    /// <summary>
    /// The forward recurrence over time, in double precision:
    /// <c>A = A decayA + a[t]</c>, <c>B = B decayB + a[t] + delta[t]</c>, <c>v[t] = v0 (A - B)</c>, row by row.
    /// </summary>
    /// <param name="a">Per-time sums of <c>w exp(-d/tau)</c>, shape <c>[T, outStride]</c>.</param>
    /// <param name="delta">Per-time sums of <c>w (exp(-d/tauS) - exp(-d/tau))</c>, same shape, or empty when all zero.</param>
    /// <param name="outStride">The row length.</param>
    /// <param name="decayA">The per-step decay <c>exp(-1/tau)</c>.</param>
    /// <param name="decayB">The per-step decay <c>exp(-1/tauS)</c>.</param>
    /// <param name="v0">The PSP normalisation.</param>
    /// <param name="state">Scratch of length <c>2 outStride</c>.</param>
    /// <param name="v">Receives the voltages, shape <c>[T, outStride]</c>.</param>
    public static void Integrate(
        ReadOnlySpan<float> a, ReadOnlySpan<float> delta, int outStride, double decayA, double decayB, double v0,
        Span<double> state, Span<float> v)
    {
        var stateA = state[..outStride];
        var stateB = state.Slice(outStride, outStride);
        stateA.Clear();
        stateB.Clear();
        var steps = a.Length / outStride;
        var hasDelta = !delta.IsEmpty;
        for (var t = 0; t < steps; t++)
        {
            var at = a.Slice(t * outStride, outStride);
            var vt = v.Slice(t * outStride, outStride);
            var dt = hasDelta ? delta.Slice(t * outStride, outStride) : default;
            for (var o = 0; o < outStride; o++)
            {
                double inA = at[o];
                var sa = (stateA[o] * decayA) + inA;
                var sb = (stateB[o] * decayB) + inA + (hasDelta ? dt[o] : 0.0);
                stateA[o] = sa;
                stateB[o] = sb;
                vt[o] = (float)(v0 * (sa - sb));
            }
        }
    }

    /// <summary>
    /// The reverse recurrence over time, in double precision:
    /// <c>GA[t] = g[t] + decayA GA[t+1]</c>, <c>GB[t] = g[t] + decayB GB[t+1]</c>. Writes, each of shape
    /// <c>[T, outStride]</c>: <c>ga = v0 GA</c>, <c>gb = v0 GB</c>, <c>gk = v0 (GA - GB)</c> and
    /// <c>gs = v0 (GA / tau - GB / tauS)</c> (the last two are what an integer-time input needs).
    /// </summary>
    public static void IntegrateBackward(
        ReadOnlySpan<float> g, int outStride, double decayA, double decayB, double v0, double tau, double tauS,
        Span<double> state, Span<float> ga, Span<float> gb, Span<float> gk, Span<float> gs)
    {
        var stateA = state[..outStride];
        var stateB = state.Slice(outStride, outStride);
        stateA.Clear();
        stateB.Clear();
        var steps = g.Length / outStride;
        for (var t = steps - 1; t >= 0; t--)
        {
            var row = t * outStride;
            for (var o = 0; o < outStride; o++)
            {
                double x = g[row + o];
                var sa = (stateA[o] * decayA) + x;
                var sb = (stateB[o] * decayB) + x;
                stateA[o] = sa;
                stateB[o] = sb;
                ga[row + o] = (float)(v0 * sa);
                gb[row + o] = (float)(v0 * sb);
                gk[row + o] = (float)(v0 * (sa - sb));
                gs[row + o] = (float)(v0 * ((sa / tau) - (sb / tauS)));
            }
        }
    }
}
