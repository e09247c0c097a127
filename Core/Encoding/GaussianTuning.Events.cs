using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using TimingBased.Events;
using TimingBased.Internal;

namespace TimingBased.Encoding;

// Encoding straight to spike events: only the neurons that can fire are computed.
public sealed partial class GaussianTuning
{
    /// <summary>
    /// Encodes <paramref name="x"/> into spike events, one pattern per sample, in SpikingJelly's default window
    /// (<see cref="DefaultMaxSpikeTime"/>); see the overload with <c>maxSpikeTime</c>.
    /// </summary>
    /// <param name="x">The input, shape <c>[batch, n, samples]</c> row-major.</param>
    /// <param name="batchSize">The batch size; at least 1.</param>
    /// <param name="destination">Receives one pattern per sample, appended.</param>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> &lt; 1.</exception>
    /// <exception cref="ArgumentException">A shape is wrong, or <paramref name="x"/> holds a NaN; nothing was appended.</exception>
    /// <exception cref="InvalidOperationException">The destination has an open pattern.</exception>
    public void Encode(ReadOnlySpan<float> x, int batchSize, SpikeEvents destination) => Encode(x, batchSize, DefaultMaxSpikeTime, destination);

    /// <summary>
    /// Encodes <paramref name="x"/> of shape <c>[batch, n, samples]</c> into spike events: one pattern per batch element,
    /// appended to <paramref name="destination"/>, with an event <c>(afferent, t)</c> for every non-negative entry of
    /// <see cref="Encode(ReadOnlySpan{float}, int, int, Span{float})"/>'s output, bit for bit the same time, and afferent
    /// the entry's position in that output's <c>[n, samples, m]</c> row. Each pattern is in afferent order.
    /// </summary>
    /// <param name="x">The input, shape <c>[batch, n, samples]</c> row-major. <c>±Infinity</c> is valid and gives no event.</param>
    /// <param name="batchSize">The batch size; at least 1.</param>
    /// <param name="maxSpikeTime">As in <see cref="Encode(ReadOnlySpan{float}, int, int, Span{float})"/>.</param>
    /// <param name="destination">Receives <c>batchSize</c> patterns; its <c>AfferentCount</c> must be <c>n * samples * m</c>, and no pattern may be open.</param>
    /// <remarks>
    /// A value <c>x</c> can make neuron <c>j</c> fire only if <c>round(maxSpikeTime (1 - exp(-q))) &lt; maxSpikeTime</c>, so
    /// only if <c>q = (x - mu_j)^2 / (2 sigma2) &lt;= ln(2 maxSpikeTime)</c>. The centres are increasing in <c>j</c> and evenly
    /// spaced, so those neurons are a contiguous run found from <c>x</c> in O(1):
    /// <c>(x - mu_1) / spacing ± sqrt((ln(2 maxSpikeTime) + 0.01) 2 sigma2) / spacing</c>, widened by the float rounding
    /// of <c>x</c> and the centres. Only that run is computed, with the same float operations as
    /// the dense path (the same vector or scalar exponential per neuron), so the times are bit-identical; see
    /// <c>docs/encoding.md</c>. Each distinct (channel, value) is computed once and its events replayed for every later
    /// sample with that value, from a per-thread cache (<c>m &lt;= 64</c>; at most 0.8 MB per thread) that stays valid
    /// across calls with the same encoder and window. Allocates nothing once <paramref name="destination"/> has grown to
    /// the largest batch and the thread's cache exists. Thread-safe: the encoder is immutable and the cache is per thread.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> &lt; 1 or <paramref name="maxSpikeTime"/> outside <c>[0, 2^24]</c>.</exception>
    /// <exception cref="ArgumentException">
    /// The length of <paramref name="x"/> is not a positive multiple of <c>batchSize * n</c>, the destination's afferent count
    /// is not <c>n * samples * m</c>, or <paramref name="x"/> holds a NaN; nothing was appended.
    /// </exception>
    /// <exception cref="InvalidOperationException">The destination has an open pattern.</exception>
    public void Encode(ReadOnlySpan<float> x, int batchSize, int maxSpikeTime, SpikeEvents destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var samples = ValidateInput(x, batchSize, maxSpikeTime);
        var n = N;
        var m = M;
        var afferents = (long)n * samples * m;
        if (destination.AfferentCount != afferents)
        {
            ThrowHelper.ElementRule(nameof(destination), string.Create(CultureInfo.InvariantCulture,
                $"destination must be over n * samples * m = {afferents} afferents; it is over {destination.AfferentCount}."));
        }

        ThrowIfNaN(x, samples);

        if (maxSpikeTime == 0)
        {
            maxSpikeTime = FallbackMaxSpikeTime;
        }

        float tMax = maxSpikeTime;
        var qCut = (float)(Math.Log(4.0 * maxSpikeTime) + 1.0);
        var vectorized = UsesVectors(m);

        Span<double> runs = n <= 64 ? stackalloc double[3 * n] : ThreadScratch(ref _runScratch, 3 * n);
        FillRuns(maxSpikeTime, runs);
        Span<float> times = m <= 256 ? stackalloc float[m] : ThreadScratch(ref _timeScratch, m);

        // Each distinct (channel, value) is computed once and replayed after that: images hold few distinct values (MNIST's
        // pixels at most 256). The cache is per thread and stays valid across calls with this encoder and window.
        var cache = m <= ValueCache.MaxM ? (_valueCache ??= new ValueCache()).Begin(_id, tMax, m, Path) : null;
        for (var b = 0; b < batchSize; b++)
        {
            // At most m events per value, plus ValueCache.ReplaySlack for the whole-vector replay's overshoot; the
            // unused tail is given back before the pattern is completed.
            var outAfferents = destination.AppendPattern((n * samples * m) + ValueCache.ReplaySlack, out var outTimes);
            var count = 0;
            for (var c = 0; c < n; c++)
            {
                var row = x.Slice(((b * n) + c) * samples, samples);
                var mu = new ReadOnlySpan<float>(_mu, c * m, m);
                var twoSigma2 = new ReadOnlySpan<float>(_twoSigma2, c * m, m);
                var slot = -1;
                for (var s = 0; s < samples; s++)
                {
                    if (cache is not null)
                    {
                        // Replays every sample whose value is cached; stops at the first that is not, with its slot claimed.
                        s = cache.ReplayRow(row, s, c, ((c * samples) + s) * m, outAfferents, outTimes, ref count, out slot);
                        if (s == samples)
                        {
                            break;
                        }
                    }

                    var value = row[s];
                    var baseAfferent = ((c * samples) + s) * m;
                    var start = count;
                    if (float.IsFinite(value))
                    {
                        var (first, last) = CandidateRun(value, runs[3 * c], runs[(3 * c) + 1], runs[(3 * c) + 2], m);
                        if (first <= last)
                        {
                            ComputeRun(vectorized, value, mu, twoSigma2, tMax, first, last, times);
                            for (var k = first; k <= last; k++)
                            {
                                // Branch-free: write every candidate, keep the ones that fire (the reserve has room).
                                var t = times[k];
                                outAfferents[count] = baseAfferent + k;
                                outTimes[count] = t;
                                count += t >= 0 ? 1 : 0;
                            }
                        }
                    }

                    cache?.Fill(slot, baseAfferent, outAfferents[start..count], outTimes[start..count]);
                }
            }

            destination.TrimOpenPattern(count);
            destination.EndAppendedPattern(timeOrdered: count <= 1, afferentOrdered: true);
        }
    }

    /// <summary>
    /// Per channel, once per call, what <see cref="CandidateRun"/> needs: where the centres start, the inverse of their
    /// spacing, and how far (in neurons) a value can reach a neuron that fires within <paramref name="maxSpikeTime"/>.
    /// </summary>
    private void FillRuns(int maxSpikeTime, Span<double> runs)
    {
        // A neuron fires only if round(tMax (1 - exp(-q))) < tMax, i.e. tMax (1 - exp(-q)) <= tMax - 1/2, i.e.
        // q <= ln(2 tMax); 0.01 more covers the float rounding of q and of the exponential many times over.
        var qFire = Math.Log(2.0 * maxSpikeTime) + 0.01;
        var m = M;
        for (var c = 0; c < N; c++)
        {
            double mu0 = _mu[c * m];
            double muLast = _mu[(c * m) + m - 1];
            var spacing = (muLast - mu0) / (m - 1);
            runs[3 * c] = mu0;
            runs[(3 * c) + 1] = 1 / spacing;
            runs[(3 * c) + 2] = (Math.Sqrt(qFire * (double)_twoSigma2[c * m]) / spacing) + (8 * 1.2e-7 * (Math.Abs(mu0) + Math.Abs(muLast)) / spacing);
        }
    }

    [ThreadStatic]
    private static ValueCache? _valueCache;

    // Per-thread buffers for the rare shapes too large for the stack (n > 64 channels, m > 256 neurons).
    [ThreadStatic]
    private static double[]? _runScratch;

    [ThreadStatic]
    private static float[]? _timeScratch;

    /// <summary>The first <paramref name="length"/> elements of a per-thread buffer, grown (once) when too short.</summary>
    private static Span<T> ThreadScratch<T>(ref T[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length)
        {
            buffer = new T[length];
        }

        return buffer.AsSpan(0, length);
    }

    private static long _lastId;

    /// <summary>This encoder's identity for the per-thread value cache (its parameters never change after construction).</summary>
    private readonly long _id = Interlocked.Increment(ref _lastId);

    /// <summary>
    /// The neurons (0-based, inclusive) that can fire for <paramref name="value"/>: those within the reach
    /// <c>sqrt(qFire 2 sigma2)</c> of it, <c>qFire = ln(2 tMax) + 0.01</c>, widened by the float rounding of the value and the centres
    /// (<paramref name="half"/> already holds the reach and the centres' rounding, in neurons).
    /// </summary>
    private static (int First, int Last) CandidateRun(float value, double mu0, double invSpacing, double half, int m)
    {
        var centre = (value - mu0) * invSpacing; // the 0-based index of the nearest centre, fractional
        var reach = half + (8 * 1.2e-7 * Math.Abs(value) * invSpacing);
        var first = Math.Floor(centre - reach);
        var last = Math.Ceiling(centre + reach);
        if (!(last >= 0 && first <= m - 1))
        {
            return (0, -1);
        }

        return ((int)Math.Max(0, first), (int)Math.Min(m - 1, last));
    }

    /// <summary>Spike times of neurons <paramref name="first"/>..<paramref name="last"/> into <paramref name="times"/>, as the dense path computes them.</summary>
    private static void ComputeRun(bool vectorized, float value, ReadOnlySpan<float> mu, ReadOnlySpan<float> twoSigma2, float tMax, int first, int last, Span<float> times)
    {
        if (!vectorized)
        {
            for (var k = first; k <= last; k++)
            {
                times[k] = EncodeScalar(value, mu[k], twoSigma2[k], tMax);
            }

            return;
        }

        // Whole vectors as the dense path loads them (the last one overlapping at m - width): the same lanes, the same
        // vector exponential, so the same bits.
        var m = mu.Length;
        var width = Vector<float>.Count;
        ref var muRef = ref MemoryMarshal.GetReference(mu);
        ref var denRef = ref MemoryMarshal.GetReference(twoSigma2);
        ref var dstRef = ref MemoryMarshal.GetReference(times);
        var xv = new Vector<float>(value);
        var tMaxV = new Vector<float>(tMax);
        var silent = new Vector<float>(-1f);
        for (var j = first; j <= last; j += width)
        {
            var at = Math.Min(j, m - width);
            var d = xv - Vector.LoadUnsafe(ref muRef, (nuint)at);
            var q = (d * d) / Vector.LoadUnsafe(ref denRef, (nuint)at);
            var y = Vector.Exp(-q);
            var t = Vector.Round(tMaxV * (Vector<float>.One - y));
            t = Vector.ConditionalSelect(Vector.LessThanOrEqual(t, Vector<float>.Zero), Vector<float>.Zero, t);
            Vector.ConditionalSelect(Vector.GreaterThanOrEqual(t, tMaxV), silent, t).StoreUnsafe(ref dstRef, (nuint)at);
        }
    }
}
