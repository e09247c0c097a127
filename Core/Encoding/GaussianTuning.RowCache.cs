using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TimingBased.Encoding;

// The dense encoder's per-thread cache of the spike-time rows of the values one call has already encoded.
public sealed partial class GaussianTuning
{
    [ThreadStatic]
    private static RowCache? _rowCache;

    /// <summary>
    /// A direct-mapped cache from (channel, value bits) to the <c>m</c> spike times the dense encoder wrote for that value,
    /// valid for one call (each call starts a new generation, so nothing carries over between calls, encoders or windows).
    /// Images hold few distinct values (MNIST's pixels at most 256 per channel), so most samples of a batch copy a row
    /// instead of computing <c>m</c> exponentials. A copy of the row the encoder computed is the same bits. Where values
    /// rarely repeat (continuous data), looking up and storing rows costs more than it saves (uniform random values;
    /// EncodeBenchmarks, LOG.md): a call stops using the cache once it has missed <see cref="MissesBeforeCheck"/> times with
    /// fewer than half as many hits.
    /// </summary>
    private sealed class RowCache
    {
        /// <summary>The largest <c>m</c> cached.</summary>
        public const int MaxM = 64;

        /// <summary>Floats of cached rows: 64 KB, 1,024 slots for <c>m &lt;= 16</c> and fewer for larger <c>m</c>.</summary>
        private const int Capacity = 16 * 1024;

        private const int MaxSlots = 1024;

        /// <summary>Misses before a call's hit rate is judged (a batch of MNIST digits misses at most about 256 times per channel).</summary>
        private const int MissesBeforeCheck = 1024;
        private readonly long[] _keys = new long[MaxSlots];
        private readonly int[] _generations = new int[MaxSlots];
        private readonly float[] _rows = new float[Capacity];
        private int _generation;
        private int _m;
        private int _slotShift;
        private int _hits;
        private int _misses;

        /// <summary>Whether this call still looks values up: until <see cref="MissesBeforeCheck"/> misses, then while hits are at least half the misses.</summary>
        public bool Worthwhile => _misses < MissesBeforeCheck || _hits >= _misses / 2;

        /// <summary>Starts a call with <paramref name="m"/> neurons per value (at most <see cref="MaxM"/>): forgets every row cached before.</summary>
        public RowCache Begin(int m)
        {
            Debug.Assert(m is > 0 and <= MaxM);
            var slots = Math.Min(MaxSlots, 1 << BitOperations.Log2((uint)(Capacity / m))); // a power of 2, slots * m <= Capacity
            _slotShift = 64 - BitOperations.Log2((uint)slots);
            (_m, _hits, _misses) = (m, 0, 0);
            if (++_generation == int.MaxValue)
            {
                Array.Clear(_generations);
                _generation = 1;
            }

            return this;
        }

        /// <summary>
        /// The row of (<paramref name="channel"/>, the value with bits <paramref name="valueBits"/>): <see langword="true"/>
        /// if it holds that value's spike times; otherwise the slot is claimed and <paramref name="row"/> is where they go.
        /// </summary>
        public bool TryGet(int channel, int valueBits, out Span<float> row)
        {
            var key = ((long)channel << 32) | (uint)valueBits;
            var slot = (int)((ulong)(key * unchecked((long)0x9E3779B97F4A7C15)) >> _slotShift);
            row = MemoryMarshal.CreateSpan(ref _rows[slot * _m], _m);
            if (_generations[slot] == _generation && _keys[slot] == key)
            {
                _hits++;
                return true;
            }

            _misses++;
            _keys[slot] = key;
            _generations[slot] = _generation; // the caller fills the row before it looks up another value
            return false;
        }
    }

    /// <summary>Copies <paramref name="m"/> floats (at least one vector) from <paramref name="source"/> to <paramref name="destination"/>, in whole vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyVectors(ref float source, ref float destination, int m)
    {
        var width = Vector<float>.Count;
        Debug.Assert(m >= width);
        var j = 0;
        for (; j <= m - width; j += width)
        {
            Vector.LoadUnsafe(ref source, (nuint)j).StoreUnsafe(ref destination, (nuint)j);
        }

        if (j < m)
        {
            // The last vector overlaps the previous one: the same floats written twice.
            Vector.LoadUnsafe(ref source, (nuint)(m - width)).StoreUnsafe(ref destination, (nuint)(m - width));
        }
    }
}
