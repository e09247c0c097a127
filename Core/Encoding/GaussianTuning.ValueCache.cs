using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TimingBased.Internal;
using TimingBased.Neurons.Kernels;

namespace TimingBased.Encoding;

// The per-thread cache of the events one (channel, value) produces, replayed by the event encoder.
public sealed partial class GaussianTuning
{
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
}
