using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TimingBased.Encoding;

// The dense encoder's kernels: one channel's row, one value's m neurons (vector and scalar).
public sealed partial class GaussianTuning
{
    /// <summary>
    /// Encodes one channel's row of samples. A sample with the previous sample's value copies its row; while the call's
    /// <paramref name="cache"/> (or null) is worth it, one with a value encoded earlier in the call copies that row.
    /// </summary>
    private static void EncodeRow(bool vectorized, ReadOnlySpan<float> x, ReadOnlySpan<float> mu, ReadOnlySpan<float> twoSigma2, Span<float> destination,
        float tMax, float qCut, RowCache? cache, int channel)
    {
        var m = mu.Length;
        var s = cache is null || !cache.Worthwhile ? 0 : EncodeRowCached(vectorized, x, mu, twoSigma2, destination, tMax, qCut, cache, channel);
        for (; s < x.Length; s++)
        {
            var output = destination.Slice(s * m, m);
            if (s > 0 && BitConverter.SingleToInt32Bits(x[s]) == BitConverter.SingleToInt32Bits(x[s - 1]))
            {
                // Same value as the previous sample (common: the background of an image): same spike times.
                Copy(vectorized, destination.Slice((s - 1) * m, m), output);
                continue;
            }

            EncodeValue(vectorized, x[s], mu, twoSigma2, output, tMax, qCut);
        }
    }

    /// <summary>
    /// <see cref="EncodeRow"/> with the cache: encodes samples from the first on while the cache is worth it; returns
    /// the first sample not encoded (<c>x.Length</c> when all were). Kept apart so that the loop without the cache
    /// stays lean (uniform random values encode slower with both in one loop; EncodeBenchmarks, LOG.md).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int EncodeRowCached(bool vectorized, ReadOnlySpan<float> x, ReadOnlySpan<float> mu, ReadOnlySpan<float> twoSigma2, Span<float> destination,
        float tMax, float qCut, RowCache cache, int channel)
    {
        var m = mu.Length;
        for (var s = 0; s < x.Length; s++)
        {
            var bits = BitConverter.SingleToInt32Bits(x[s]);
            var output = destination.Slice(s * m, m);
            if (s > 0 && bits == BitConverter.SingleToInt32Bits(x[s - 1]))
            {
                Copy(vectorized, destination.Slice((s - 1) * m, m), output);
                continue;
            }

            if (cache.TryGet(channel, bits, out var cached))
            {
                Copy(vectorized, cached, output);
                continue;
            }

            EncodeValue(vectorized, x[s], mu, twoSigma2, output, tMax, qCut);
            Copy(vectorized, output, cached);
            if (!cache.Worthwhile)
            {
                return s + 1;
            }
        }

        return x.Length;
    }

    /// <summary>The <c>m</c> spike times of one value: the vector kernel, or the scalar formula neuron by neuron.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EncodeValue(bool vectorized, float value, ReadOnlySpan<float> mu, ReadOnlySpan<float> twoSigma2, Span<float> output, float tMax, float qCut)
    {
        if (vectorized)
        {
            EncodeValueVector(value, mu, twoSigma2, output, tMax, qCut);
            return;
        }

        for (var j = 0; j < mu.Length; j++)
        {
            output[j] = EncodeScalar(value, mu[j], twoSigma2[j], tMax);
        }
    }

    /// <summary>Copies a row of <c>m</c> spike times: in whole vectors where <c>m</c> is at least one, else as a span copy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(bool vectorized, Span<float> source, Span<float> destination)
    {
        Debug.Assert(source.Length == destination.Length);
        if (vectorized)
        {
            CopyVectors(ref MemoryMarshal.GetReference(source), ref MemoryMarshal.GetReference(destination), source.Length);
        }
        else
        {
            source.CopyTo(destination);
        }
    }

    private static void EncodeValueVector(
        float value, ReadOnlySpan<float> mu, ReadOnlySpan<float> twoSigma2, Span<float> destination, float tMax, float qCut)
    {
        ref var muRef = ref MemoryMarshal.GetReference(mu);
        ref var denRef = ref MemoryMarshal.GetReference(twoSigma2);
        ref var dstRef = ref MemoryMarshal.GetReference(destination);
        var m = mu.Length;
        var width = Vector<float>.Count;
        var xv = new Vector<float>(value);
        var tMaxV = new Vector<float>(tMax);
        var qCutV = new Vector<float>(qCut);
        var silent = new Vector<float>(-1f);
        var j = 0;
        while (true)
        {
            // The last block overlaps the previous one when m is not a multiple of the width: the
            // overlapping lanes are computed identically, so writing them twice is harmless.
            if (j > m - width)
            {
                j = m - width;
            }

            var d = xv - Vector.LoadUnsafe(ref muRef, (nuint)j);
            var q = (d * d) / Vector.LoadUnsafe(ref denRef, (nuint)j);
            Vector<float> result;
            if (Vector.GreaterThanAll(q, qCutV))
            {
                result = silent;
            }
            else
            {
                var y = Vector.Exp(-q);
                var t = Vector.Round(tMaxV * (Vector<float>.One - y));
                // exp(-q) <= 1 for q >= 0, so t >= 0; a vector exp that returns 1 + ulp at q = 0 (some ISAs
                // do) must not turn a spike at 0 into -0 or, for large windows, into a negative time.
                t = Vector.ConditionalSelect(Vector.LessThanOrEqual(t, Vector<float>.Zero), Vector<float>.Zero, t);
                result = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(t, tMaxV), silent, t);
            }

            result.StoreUnsafe(ref dstRef, (nuint)j);
            j += width;
            if (j >= m)
            {
                break;
            }
        }
    }

    /// <summary>
    /// The scalar formula, used where vectors do not apply: the same float32 operations in the same order, except the
    /// exponential, which is <see cref="MathF.Exp"/> here and the runtime's vector exponential on the vector path. The
    /// two differ in the last bit for about 1 value in 3 million, which moves a spike time by one step only when
    /// <c>maxSpikeTime (1 - y)</c> lands within that bit of a half (see docs/encoding.md).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float EncodeScalar(float x, float mu, float twoSigma2, float tMax)
    {
        var d = x - mu;
        var y = MathF.Exp(-((d * d) / twoSigma2));
        var t = MathF.Round(tMax * (1f - y));
        return t >= tMax ? -1f : t <= 0f ? 0f : t;
    }
}
