using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using TimingBased.Events;
using TimingBased.Internal;

namespace TimingBased.Encoding;

/// <summary>Encoding straight to spike events: only the neurons that can fire are computed.</summary>
public sealed partial class GaussianTuning
{
    /// <summary>
    /// Encodes <paramref name="x"/> of shape <c>[batch, n, samples]</c> into spike events: one pattern per batch element,
    /// appended to <paramref name="destination"/>, with an event <c>(afferent, t)</c> for every non-negative entry of
    /// <see cref="Encode(ReadOnlySpan{float}, int, Span{float}, int)"/>'s output, bit for bit the same time, and afferent
    /// the entry's position in that output's <c>[n, samples, m]</c> row. Each pattern is in afferent order.
    /// </summary>
    /// <param name="x">The input, shape <c>[batch, n, samples]</c> row-major. <c>±Infinity</c> is valid and gives no event.</param>
    /// <param name="batchSize">The batch size; at least 1.</param>
    /// <param name="destination">Receives <c>batchSize</c> patterns; its <c>AfferentCount</c> must be <c>n * samples * m</c>, and no pattern may be open.</param>
    /// <param name="maxSpikeTime">As in <see cref="Encode(ReadOnlySpan{float}, int, Span{float}, int)"/>.</param>
    /// <remarks>
    /// A value <c>x</c> can make neuron <c>j</c> fire only if <c>round(maxSpikeTime (1 - exp(-q))) &lt; maxSpikeTime</c>, so
    /// only if <c>q = (x - mu_j)^2 / (2 sigma2) &lt;= ln(2 maxSpikeTime)</c>. The centres are increasing in <c>j</c> and evenly
    /// spaced, so those neurons are a contiguous run found from <c>x</c> in O(1):
    /// <c>(x - mu_1) / spacing ± sqrt((ln(2 maxSpikeTime) + 0.01) 2 sigma2) / spacing</c>, widened by the float rounding
    /// of <c>x</c> and the centres. Only that run is computed, with the same float operations as
    /// the dense path (the same vector or scalar exponential per neuron), so the times are bit-identical; see
    /// <c>docs/encoding.md</c>. Allocates nothing once <paramref name="destination"/> has grown to the largest batch.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> &lt; 1 or <paramref name="maxSpikeTime"/> outside <c>[0, 2^24]</c>.</exception>
    /// <exception cref="ArgumentException">
    /// The length of <paramref name="x"/> is not a positive multiple of <c>batchSize * n</c>, the destination's afferent count
    /// is not <c>n * samples * m</c>, or <paramref name="x"/> holds a NaN; nothing was appended.
    /// </exception>
    /// <exception cref="InvalidOperationException">The destination has an open pattern.</exception>
    public void Encode(ReadOnlySpan<float> x, int batchSize, SpikeEvents destination, int maxSpikeTime = DefaultMaxSpikeTime)
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
        var vectorized = Vector.IsHardwareAccelerated && m >= Vector<float>.Count;

        // A neuron fires only if round(tMax (1 - exp(-q))) < tMax, i.e. tMax (1 - exp(-q)) <= tMax - 1/2, i.e.
        // q <= ln(2 tMax); 0.01 more covers the float rounding of q and of the exponential many times over.
        var qFire = Math.Log(2.0 * maxSpikeTime) + 0.01;

        // Per channel, once per call: where the centres start, their spacing, and how far a value reaches (in neurons).
        Span<double> runs = n <= 64 ? stackalloc double[3 * n] : new double[3 * n];
        for (var c = 0; c < n; c++)
        {
            double mu0 = _mu[c * m];
            double muLast = _mu[(c * m) + m - 1];
            var spacing = (muLast - mu0) / (m - 1);
            runs[3 * c] = mu0;
            runs[(3 * c) + 1] = 1 / spacing;
            runs[(3 * c) + 2] = (Math.Sqrt(qFire * (double)_twoSigma2[c * m]) / spacing) + (8 * 1.2e-7 * (Math.Abs(mu0) + Math.Abs(muLast)) / spacing);
        }

        Span<float> times = m <= 256 ? stackalloc float[m] : new float[m];

        // Within a call, each distinct (channel, value) is computed once: images hold few distinct values (MNIST's
        // pixels at most 256), so most values replay a cached run. The cache is per thread, reused across calls.
        var cache = m <= ValueCache.MaxM ? (_valueCache ??= new ValueCache()).Begin(m) : null;
        for (var b = 0; b < batchSize; b++)
        {
            // At most m events per value; the unused tail is given back before the pattern is completed.
            var outAfferents = destination.AppendPattern(n * samples * m, out var outTimes);
            var count = 0;
            for (var c = 0; c < n; c++)
            {
                var row = x.Slice(((b * n) + c) * samples, samples);
                var mu = new ReadOnlySpan<float>(_mu, c * m, m);
                var twoSigma2 = new ReadOnlySpan<float>(_twoSigma2, c * m, m);
                var previous = float.NaN;
                var previousStart = 0;
                var previousCount = 0;
                for (var s = 0; s < samples; s++)
                {
                    var value = row[s];
                    var baseAfferent = ((c * samples) + s) * m;
                    if (BitConverter.SingleToInt32Bits(value) == BitConverter.SingleToInt32Bits(previous))
                    {
                        // Same value as the previous sample (the background of an image): the same events, m further on.
                        for (var k = 0; k < previousCount; k++)
                        {
                            outAfferents[count + k] = outAfferents[previousStart + k] + m;
                            outTimes[count + k] = outTimes[previousStart + k];
                        }

                        previousStart = count;
                        count += previousCount;
                        continue;
                    }

                    previous = value;
                    previousStart = count;
                    var slot = cache?.Find(c, value) ?? -1;
                    if (slot >= 0 && cache!.IsFilled(slot))
                    {
                        count = cache.Replay(slot, baseAfferent, outAfferents, outTimes, count);
                    }
                    else if (float.IsFinite(value))
                    {
                        var (first, last) = CandidateRun(value, runs[3 * c], runs[(3 * c) + 1], runs[(3 * c) + 2], m);
                        var start = count;
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

                        cache?.Fill(slot, baseAfferent, outAfferents[start..count], outTimes[start..count]);
                    }

                    previousCount = count - previousStart;
                }
            }

            destination.TrimOpenPattern(count);
            destination.EndAppendedPattern(timeOrdered: count <= 1, afferentOrdered: true);
        }
    }

    [ThreadStatic]
    private static ValueCache? _valueCache;

    /// <summary>
    /// A direct-mapped cache of the events one (channel, value) produces, as (neuron, time) pairs, valid for one call
    /// (a generation counter invalidates it, so no clearing).
    /// </summary>
    private sealed class ValueCache
    {
        public const int MaxM = 64;
        private const int Slots = 1024;
        private readonly long[] _keys = new long[Slots];
        private readonly int[] _generations = new int[Slots];
        private readonly int[] _counts = new int[Slots];
        private int[] _neurons = [];
        private double[] _times = [];
        private int _generation;
        private int _m;

        /// <summary>Starts a call with <paramref name="m"/> neurons per value; returns this cache.</summary>
        public ValueCache Begin(int m)
        {
            if (_neurons.Length < Slots * m)
            {
                _neurons = new int[Slots * m];
                _times = new double[Slots * m];
            }

            _m = m;
            if (++_generation == int.MaxValue)
            {
                Array.Clear(_generations);
                _generation = 1;
            }

            return this;
        }

        /// <summary>The slot for (<paramref name="channel"/>, <paramref name="value"/>): filled with its events, or claimed for them.</summary>
        public int Find(int channel, float value)
        {
            var key = ((long)channel << 32) | (uint)BitConverter.SingleToInt32Bits(value);
            var slot = (int)((ulong)(key * unchecked((long)0x9E3779B97F4A7C15)) >> 54); // 10 bits
            if (_generations[slot] != _generation || _keys[slot] != key)
            {
                _keys[slot] = key;
                _generations[slot] = -_generation; // claimed, not yet filled
            }

            return slot;
        }

        public bool IsFilled(int slot) => _generations[slot] == _generation;

        /// <summary>Stores a value's events (afferents relative to <paramref name="baseAfferent"/>).</summary>
        public void Fill(int slot, int baseAfferent, ReadOnlySpan<int> afferents, ReadOnlySpan<double> times)
        {
            if (slot < 0)
            {
                return;
            }

            var at = slot * _m;
            for (var k = 0; k < afferents.Length; k++)
            {
                _neurons[at + k] = afferents[k] - baseAfferent;
                _times[at + k] = times[k];
            }

            _counts[slot] = afferents.Length;
            _generations[slot] = _generation;
        }

        /// <summary>Appends a cached value's events at <paramref name="count"/>; returns the new count.</summary>
        public int Replay(int slot, int baseAfferent, Span<int> afferents, Span<double> times, int count)
        {
            var at = slot * _m;
            var n = _counts[slot];
            for (var k = 0; k < n; k++)
            {
                afferents[count + k] = baseAfferent + _neurons[at + k];
                times[count + k] = _times[at + k];
            }

            return count + n;
        }
    }

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
