using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TimingBased.Events;
using TimingBased.Internal;
using TimingBased.Neurons.Kernels;

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

        // A neuron fires only if round(tMax (1 - exp(-q))) < tMax, i.e. tMax (1 - exp(-q)) <= tMax - 1/2, i.e.
        // q <= ln(2 tMax); 0.01 more covers the float rounding of q and of the exponential many times over.
        var qFire = Math.Log(2.0 * maxSpikeTime) + 0.01;

        // Per channel, once per call: where the centres start, their spacing, and how far a value reaches (in neurons).
        Span<double> runs = n <= 64 ? stackalloc double[3 * n] : ThreadScratch(ref _runScratch, 3 * n);
        for (var c = 0; c < n; c++)
        {
            double mu0 = _mu[c * m];
            double muLast = _mu[(c * m) + m - 1];
            var spacing = (muLast - mu0) / (m - 1);
            runs[3 * c] = mu0;
            runs[(3 * c) + 1] = 1 / spacing;
            runs[(3 * c) + 2] = (Math.Sqrt(qFire * (double)_twoSigma2[c * m]) / spacing) + (8 * 1.2e-7 * (Math.Abs(mu0) + Math.Abs(muLast)) / spacing);
        }

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
    /// A direct-mapped cache of the events one (channel, value) produces, as (neuron, time) pairs, for one encoder and
    /// window: it stays valid across calls while both are the same, and a generation counter invalidates it otherwise
    /// (no clearing). A thread's cache serves one encoder at a time.
    /// </summary>
    private sealed class ValueCache
    {
        /// <summary>The largest <c>m</c> cached.</summary>
        public const int MaxM = 64;

        /// <summary>
        /// How far past a value's last event a replay may write (whole vectors: 8 afferents, 16 in a block replay on
        /// AVX-512): the room a caller reserves after its last possible event, and the padding after the last slot.
        /// </summary>
        public const int ReplaySlack = 16;

        /// <summary>How many samples of one value <see cref="ReplayBlock"/> appends at once (one vector of row values).</summary>
        private const int RunBlock = 8;

        /// <summary>The most slots (m &lt;= 16); larger m get a quarter as many, so a cache holds at most 1024 m &lt;= 64K events (0.8 MB).</summary>
        private const int MaxSlotBits = 12;
        private const int Slots = 1 << MaxSlotBits;
        private readonly int[] _blockNeurons = new int[(RunBlock * MaxM) + ReplaySlack];
        private readonly double[] _blockTimes = new double[(RunBlock * MaxM) + ReplaySlack];
        private int _blockSlot = -1;
        private int _blockGeneration;
        private readonly long[] _keys = new long[Slots];
        private readonly int[] _generations = new int[Slots];
        private readonly int[] _counts = new int[Slots];
        private int[] _neurons = [];
        private double[] _times = [];
        private int _generation;
        private long _owner;
        private float _tMax;
        private int _m;
        private int _slotShift = 64 - MaxSlotBits;
        private int _lanes = 1; // entries per replay store: 8 where the call's path allows 256-bit vectors, else 1
        private int _wideLanes = 1; // the same for block replays: 16 where it allows AVX-512

        /// <summary>
        /// Starts a call by encoder <paramref name="owner"/> with window <paramref name="tMax"/> and <paramref name="m"/>
        /// neurons per value, on instruction-set path <paramref name="path"/> (decided here, once per call); returns this cache.
        /// </summary>
        public ValueCache Begin(long owner, float tMax, int m, KernelPath path)
        {
            _lanes = KernelPaths.Allows(path, KernelPath.Vector256) ? 8 : 1;
            _wideLanes = KernelPaths.Allows(path, KernelPath.Avx512) ? 16 : _lanes;
            if (owner == _owner && tMax == _tMax && m == _m)
            {
                return this; // the cached events are still this encoder's
            }

            var slots = m <= 16 ? Slots : Slots / 4;
            _slotShift = 64 - BitOperations.Log2((uint)slots);
            if (_neurons.Length < (slots * m) + ReplaySlack)
            {
                _neurons = new int[(slots * m) + ReplaySlack];
                _times = new double[(slots * m) + ReplaySlack];
            }

            (_owner, _tMax, _m) = (owner, tMax, m);
            if (++_generation == int.MaxValue)
            {
                Array.Clear(_generations);
                _generation = 1;
            }

            return this;
        }

        /// <summary>The slot for (<paramref name="channel"/>, the value with bits <paramref name="valueBits"/>): filled with its events, or claimed for them.</summary>
        public int Find(int channel, int valueBits)
        {
            var key = ((long)channel << 32) | (uint)valueBits;
            var slot = (int)((ulong)(key * unchecked((long)0x9E3779B97F4A7C15)) >> _slotShift);
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
            Debug.Assert(afferents.Length <= _m && times.Length == afferents.Length);
            var at = slot * _m;
            for (var k = 0; k < afferents.Length; k++)
            {
                _neurons[at + k] = afferents[k] - baseAfferent;
                _times[at + k] = times[k];
            }

            _counts[slot] = afferents.Length;
            _generations[slot] = _generation;
            if (slot == _blockSlot)
            {
                _blockSlot = -1; // the slot holds another value now
            }
        }

        /// <summary>
        /// Appends the events of <paramref name="row"/>'s samples from <paramref name="s"/> on while their values are
        /// cached (the first at <paramref name="baseAfferent"/>, each next one <c>m</c> further), advancing
        /// <paramref name="count"/>; returns the first sample whose value is not cached, with its claimed slot in
        /// <paramref name="slot"/>, or <c>row.Length</c>. Writes whole vectors: up to <see cref="ReplaySlack"/> - 1 entries
        /// past the last event, which the caller has reserved and later overwrites or trims.
        /// </summary>
        public int ReplayRow(ReadOnlySpan<float> row, int s, int channel, int baseAfferent, Span<int> afferents, Span<double> times, ref int count, out int slot) =>
            _wideLanes == 16 ? ReplayRow<Store8, Store16>(row, s, channel, baseAfferent, afferents, times, ref count, out slot)
            : _lanes == 8 ? ReplayRow<Store8, Store8>(row, s, channel, baseAfferent, afferents, times, ref count, out slot)
            : ReplayRow<Store1, Store1>(row, s, channel, baseAfferent, afferents, times, ref count, out slot);

        /// <summary>
        /// <see cref="ReplayRow(ReadOnlySpan{float}, int, int, int, Span{int}, Span{double}, ref int, out int)"/> with the
        /// store of one value's events and the store of a block, which the JIT compiles in.
        /// </summary>
        private int ReplayRow<TStore, TBlockStore>(ReadOnlySpan<float> row, int s, int channel, int baseAfferent, Span<int> afferents, Span<double> times, ref int count, out int slot)
            where TStore : struct, IReplayStore
            where TBlockStore : struct, IReplayStore
        {
            var m = _m;
            slot = -1;

            // The bound the unchecked stores rely on: every sample adds at most m events and a store reaches at most
            // ReplaySlack - 1 past its value's events, so the row's remaining samples need (samples - s) m + slack.
            var room = (long)count + ((long)(row.Length - s) * m) + ReplaySlack;
            if (room > afferents.Length || room > times.Length)
            {
                ThrowHelper.InternalBound("value cache replay");
            }

            ref var rowRef = ref MemoryMarshal.GetReference(row);
            ref var neurons = ref MemoryMarshal.GetArrayDataReference(_neurons);
            ref var cachedTimes = ref MemoryMarshal.GetArrayDataReference(_times);
            ref var dst = ref MemoryMarshal.GetReference(afferents);
            ref var dstTimes = ref MemoryMarshal.GetReference(times);
            var at = 0;
            var n = 0;
            var previous = ~BitConverter.SingleToInt32Bits(Unsafe.Add(ref rowRef, s)); // differs from the first value
            var written = count;
            for (; s < row.Length; s++, baseAfferent += m)
            {
                var bits = BitConverter.SingleToInt32Bits(Unsafe.Add(ref rowRef, s));
                if (bits != previous)
                {
                    // A new value; the same value as the previous sample (an image's background) keeps its slot.
                    slot = Find(channel, bits);
                    if (!IsFilled(slot))
                    {
                        break;
                    }

                    at = slot * m; // a slot's neurons and times hold m entries, then the next slot's or the padding
                    Debug.Assert(at + m + ReplaySlack <= _neurons.Length);
                    n = _counts[slot];
                    previous = bits;
                }
                else if (typeof(TStore) != typeof(Store1) && s + RunBlock <= row.Length && n > 0 &&
                    Vector256.EqualsAll(Vector256.LoadUnsafe(ref Unsafe.As<float, int>(ref rowRef), (nuint)s), Vector256.Create(bits)))
                {
                    // This sample and the next RunBlock - 1 repeat the value (an image's background): replay them as one block.
                    written = ReplayBlock<TBlockStore>(slot, at, n, baseAfferent, ref dst, ref dstTimes, written);
                    s += RunBlock - 1;
                    baseAfferent += (RunBlock - 1) * m;
                    continue;
                }

                TStore.Append(ref Unsafe.Add(ref neurons, at), ref Unsafe.Add(ref cachedTimes, at), n, baseAfferent, ref dst, ref dstTimes, written);
                written += n;
            }

            count = written;
            return s;
        }

        /// <summary>
        /// Appends <see cref="RunBlock"/> samples of the value in <paramref name="slot"/> (its events at <paramref name="at"/>,
        /// <paramref name="n"/> of them), the first at <paramref name="baseAfferent"/>, from a block of their events built once
        /// per slot; returns the new count. Same bounds as <see cref="ReplayRow"/>: <c>RunBlock n &lt;= RunBlock m</c> events,
        /// and at most <see cref="ReplaySlack"/> - 1 entries past them (see <see cref="IReplayStore"/>).
        /// </summary>
        private int ReplayBlock<TBlockStore>(int slot, int at, int n, int baseAfferent, ref int dst, ref double dstTimes, int written)
            where TBlockStore : struct, IReplayStore
        {
            var length = RunBlock * n;
            if (_blockSlot != slot || _blockGeneration != _generation)
            {
                for (var p = 0; p < RunBlock; p++)
                {
                    for (var k = 0; k < n; k++)
                    {
                        _blockNeurons[(p * n) + k] = _neurons[at + k] + (p * _m);
                        _blockTimes[(p * n) + k] = _times[at + k];
                    }
                }

                (_blockSlot, _blockGeneration) = (slot, _generation);
            }

            TBlockStore.Append(ref MemoryMarshal.GetArrayDataReference(_blockNeurons), ref MemoryMarshal.GetArrayDataReference(_blockTimes), length,
                baseAfferent, ref dst, ref dstTimes, written);

            return written + length;
        }

        /// <summary>
        /// Appends <c>count</c> cached events at <c>written</c>: each neuron plus <c>baseAfferent</c>, each time as it is.
        /// The stores are whole vectors, so up to <see cref="ReplaySlack"/> - 1 entries past them are written from the
        /// padding after the source. A block replay is wide (<see cref="Store16"/> where the path allows AVX-512: it pays
        /// on blank images); one value's few events are not (16 at a time made the 64 digits' replay slower; LOG.md).
        /// </summary>
        private interface IReplayStore
        {
            static abstract void Append(ref int neurons, ref double times, int count, int baseAfferent, ref int dst, ref double dstTimes, int written);
        }

        /// <summary>16 entries per store (AVX-512).</summary>
        private readonly struct Store16 : IReplayStore
        {
            public static void Append(ref int neurons, ref double times, int count, int baseAfferent, ref int dst, ref double dstTimes, int written)
            {
                var shift = Vector512.Create(baseAfferent);
                for (var k = 0; k < count; k += 16)
                {
                    (Vector512.LoadUnsafe(ref neurons, (nuint)k) + shift).StoreUnsafe(ref dst, (nuint)(written + k));
                    Vector512.LoadUnsafe(ref times, (nuint)k).StoreUnsafe(ref dstTimes, (nuint)(written + k));
                    Vector512.LoadUnsafe(ref times, (nuint)(k + 8)).StoreUnsafe(ref dstTimes, (nuint)(written + k + 8));
                }
            }
        }

        /// <summary>8 entries per store (256-bit vectors).</summary>
        private readonly struct Store8 : IReplayStore
        {
            public static void Append(ref int neurons, ref double times, int count, int baseAfferent, ref int dst, ref double dstTimes, int written)
            {
                var shift = Vector256.Create(baseAfferent);
                for (var k = 0; k < count; k += 8)
                {
                    (Vector256.LoadUnsafe(ref neurons, (nuint)k) + shift).StoreUnsafe(ref dst, (nuint)(written + k));
                    Vector256.LoadUnsafe(ref times, (nuint)k).StoreUnsafe(ref dstTimes, (nuint)(written + k));
                    Vector256.LoadUnsafe(ref times, (nuint)(k + 4)).StoreUnsafe(ref dstTimes, (nuint)(written + k + 4));
                }
            }
        }

        /// <summary>One entry at a time (no vectors; no block replays either).</summary>
        private readonly struct Store1 : IReplayStore
        {
            public static void Append(ref int neurons, ref double times, int count, int baseAfferent, ref int dst, ref double dstTimes, int written)
            {
                for (var k = 0; k < count; k++)
                {
                    Unsafe.Add(ref dst, written + k) = baseAfferent + Unsafe.Add(ref neurons, k);
                    Unsafe.Add(ref dstTimes, written + k) = Unsafe.Add(ref times, k);
                }
            }
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
