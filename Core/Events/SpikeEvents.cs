using System.Globalization;
using TimingBased.Internal;

namespace TimingBased.Events;

/// <summary>
/// A batch of sparse spike patterns: for each pattern, a list of <c>(afferent, time)</c> events sorted by time.
/// The library's one event type, read by <see cref="Neurons.ExactTempotron"/> and convertible to and from the dense
/// <c>[batch, in]</c> spike-time layout of <see cref="Neurons.Tempotron"/>.
/// </summary>
/// <remarks>
/// <para>
/// Storage is three growable arrays, as in CSR: <see cref="Offsets"/> (<c>[patterns + 1]</c>), and
/// <see cref="Afferents"/> and <see cref="Times"/> (<c>[events]</c>); pattern <c>p</c> owns events
/// <c>Offsets[p] .. Offsets[p + 1] - 1</c>. <see cref="Clear"/> keeps the capacity, so refilling an instance for every
/// batch allocates nothing once it has grown to the largest batch.
/// </para>
/// <para>
/// Every event is validated when added: afferent in <c>[0, AfferentCount)</c>, time finite and <c>&gt;= 0</c>. Any
/// number of spikes per afferent is allowed (0, 1 or many). A pattern keeps its events in the order they were added,
/// and records, when completed, whether that order is by time (<see cref="SpikePattern.IsTimeOrdered"/>) and whether it
/// is by strictly increasing afferent (<see cref="SpikePattern.IsAfferentOrdered"/>): the encoder emits afferent order,
/// a stream time order. Each model reads the order it needs without copying when the pattern has it
/// (<see cref="Neurons.ExactTempotron"/> time order, <see cref="Neurons.Tempotron"/> afferent order) and otherwise
/// orders a copy in per-thread scratch; <see cref="SortByTime()"/> sorts every pattern in place once.
/// </para>
/// <para>Thread safety: reading from many threads is safe; adding is not, and must not overlap reads.</para>
/// </remarks>
public sealed class SpikeEvents
{
    private int[] _offsets = new int[16];
    private byte[] _order = new byte[16]; // per pattern: bit 0 time-ordered, bit 1 afferent-ordered
    private int[] _afferents = new int[64];
    private double[] _times = new double[64];
    private int _patterns;
    private int _events;

    /// <summary>Creates an empty batch for patterns over <paramref name="afferentCount"/> afferents.</summary>
    /// <param name="afferentCount">The number of afferents (inputs); at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="afferentCount"/> &lt; 1.</exception>
    public SpikeEvents(int afferentCount)
    {
        if (afferentCount < 1)
        {
            ThrowHelper.SizeTooSmall(nameof(afferentCount), afferentCount, 1);
        }

        AfferentCount = afferentCount;
    }

    /// <summary>Gets the number of afferents; every event's afferent is below it.</summary>
    public int AfferentCount { get; }

    /// <summary>Gets the number of completed patterns.</summary>
    public int PatternCount => _patterns;

    /// <summary>Gets the number of events in the completed patterns and the open one.</summary>
    public int EventCount => _events;

    /// <summary>Gets the pattern offsets, <c>[PatternCount + 1]</c>: pattern <c>p</c> is events <c>Offsets[p] .. Offsets[p + 1] - 1</c>.</summary>
    public ReadOnlySpan<int> Offsets => _offsets.AsSpan(0, _patterns + 1);

    /// <summary>Gets the afferent of every event of the completed patterns, <c>[Offsets[PatternCount]]</c>.</summary>
    public ReadOnlySpan<int> Afferents => _afferents.AsSpan(0, _offsets[_patterns]);

    /// <summary>Gets the time of every event of the completed patterns, <c>[Offsets[PatternCount]]</c>.</summary>
    public ReadOnlySpan<double> Times => _times.AsSpan(0, _offsets[_patterns]);

    /// <summary>Removes every pattern and event; the capacity is kept.</summary>
    public void Clear()
    {
        _patterns = 0;
        _events = 0;
    }

    /// <summary>Adds one event to the open pattern (the one the next <see cref="EndPattern"/> completes).</summary>
    /// <param name="afferent">The afferent, in <c>[0, AfferentCount)</c>.</param>
    /// <param name="time">The spike time; finite and <c>&gt;= 0</c> (milliseconds by convention).</param>
    /// <exception cref="ArgumentOutOfRangeException">The afferent or time breaks its rule; nothing was added.</exception>
    public void Add(int afferent, double time)
    {
        if ((uint)afferent >= (uint)AfferentCount)
        {
            ThrowHelper.IntOutOfRange(nameof(afferent), afferent, 0, AfferentCount - 1);
        }

        if (!(double.IsFinite(time) && time >= 0))
        {
            ThrowHelper.NotFiniteNonNegative(nameof(time), time);
        }

        EnsureEventCapacity(_events + 1);
        _afferents[_events] = afferent;
        _times[_events] = time;
        _events++;
    }

    /// <summary>Completes the open pattern (possibly empty), recording whether its events are in time or afferent order.</summary>
    /// <returns>The index of the completed pattern.</returns>
    public int EndPattern()
    {
        var start = _offsets[_patterns];
        if (_patterns + 2 > _offsets.Length)
        {
            Array.Resize(ref _offsets, _offsets.Length * 2);
            Array.Resize(ref _order, _offsets.Length);
        }

        _order[_patterns] = Order(_afferents.AsSpan(start, _events - start), _times.AsSpan(start, _events - start));
        _patterns++;
        _offsets[_patterns] = _events;
        return _patterns - 1;
    }

    /// <summary>Sorts the events of every completed pattern by time, equal times by afferent (stable and deterministic).</summary>
    public void SortByTime()
    {
        ThrowIfOpen();
        for (var p = 0; p < _patterns; p++)
        {
            var start = _offsets[p];
            var length = _offsets[p + 1] - start;
            SortByTime(_times.AsSpan(start, length), _afferents.AsSpan(start, length));
            _order[p] = Order(_afferents.AsSpan(start, length), _times.AsSpan(start, length));
        }
    }

    /// <summary>Bit 0: times non-decreasing; bit 1: afferents strictly increasing.</summary>
    internal static byte Order(ReadOnlySpan<int> afferents, ReadOnlySpan<double> times)
    {
        var byTime = true;
        var byAfferent = true;
        for (var k = 1; k < times.Length; k++)
        {
            byTime &= times[k - 1] <= times[k];
            byAfferent &= afferents[k - 1] < afferents[k];
        }

        return (byte)((byTime ? 1 : 0) | (byAfferent ? 2 : 0));
    }

    /// <summary>Appends a completed pattern whose order the caller knows (the encoder's afferent-ordered output).</summary>
    internal Span<int> AppendPattern(int count, out Span<double> times)
    {
        ThrowIfOpen();
        EnsureEventCapacity(_events + count);
        var afferents = _afferents.AsSpan(_events, count);
        times = _times.AsSpan(_events, count);
        _events += count;
        return afferents;
    }

    /// <summary>Completes a pattern appended by <see cref="AppendPattern"/> with its known order flags.</summary>
    internal void EndAppendedPattern(bool timeOrdered, bool afferentOrdered)
    {
        if (_patterns + 2 > _offsets.Length)
        {
            Array.Resize(ref _offsets, _offsets.Length * 2);
            Array.Resize(ref _order, _offsets.Length);
        }

        _order[_patterns] = (byte)((timeOrdered ? 1 : 0) | (afferentOrdered ? 2 : 0));
        _patterns++;
        _offsets[_patterns] = _events;
    }

    /// <summary>Gives back events appended beyond <paramref name="count"/> by <see cref="AppendPattern"/>.</summary>
    internal void TrimOpenPattern(int count) => _events = _offsets[_patterns] + count;

    /// <summary>Adds a whole pattern from parallel spans of afferents and times, validated before anything is added.</summary>
    /// <param name="afferents">The afferent of each event, each in <c>[0, AfferentCount)</c>.</param>
    /// <param name="times">The time of each event, finite and <c>&gt;= 0</c>; the same length.</param>
    /// <returns>The index of the new pattern.</returns>
    /// <exception cref="InvalidOperationException">A pattern is open (events were added without <see cref="EndPattern"/>).</exception>
    /// <exception cref="ArgumentException">The lengths differ, or an event breaks its rule (the message gives its index); nothing was added.</exception>
    public int AddPattern(ReadOnlySpan<int> afferents, ReadOnlySpan<double> times)
    {
        ThrowIfOpen();
        if (times.Length != afferents.Length)
        {
            ThrowHelper.LengthMismatch(nameof(times), "[events] like afferents", afferents.Length, times.Length);
        }

        for (var k = 0; k < afferents.Length; k++)
        {
            if ((uint)afferents[k] >= (uint)AfferentCount)
            {
                ThrowHelper.ElementRule(nameof(afferents), string.Create(CultureInfo.InvariantCulture,
                    $"afferents[{k}] must be in [0, {AfferentCount}); was {afferents[k]}."));
            }

            if (!(double.IsFinite(times[k]) && times[k] >= 0))
            {
                ThrowHelper.ElementRule(nameof(times), string.Create(CultureInfo.InvariantCulture,
                    $"times[{k}] must be finite and >= 0; was {times[k]:R}."));
            }
        }

        EnsureEventCapacity(_events + afferents.Length);
        afferents.CopyTo(_afferents.AsSpan(_events));
        times.CopyTo(_times.AsSpan(_events));
        _events += afferents.Length;
        return EndPattern();
    }

    /// <summary>
    /// Adds one pattern per row of a dense <c>[batch, in]</c> spike-time array (<see cref="Neurons.Tempotron"/>'s input):
    /// every entry <c>&gt;= 0</c> (including <c>-0</c>) and finite becomes an event at that time; negative entries and
    /// <c>+Infinity</c> are silent, as in the dense model.
    /// </summary>
    /// <param name="spikes">Spike times, shape <c>[batch, AfferentCount]</c> row-major.</param>
    /// <exception cref="InvalidOperationException">A pattern is open.</exception>
    /// <exception cref="ArgumentException">The length is not a positive multiple of <see cref="AfferentCount"/>, or an entry is NaN; nothing was added.</exception>
    public void AddDense(ReadOnlySpan<float> spikes)
    {
        ThrowIfOpen();
        if (spikes.IsEmpty || spikes.Length % AfferentCount != 0)
        {
            ThrowHelper.NotPositiveMultiple(nameof(spikes), "[batch, in]", spikes.Length, AfferentCount, "AfferentCount");
        }

        var nan = SpanChecks.IndexOfNaN(spikes);
        if (nan >= 0)
        {
            ThrowHelper.NaNAt(nameof(spikes), string.Create(CultureInfo.InvariantCulture, $"(batch {nan / AfferentCount}, input {nan % AfferentCount})"));
        }

        for (var row = 0; row < spikes.Length; row += AfferentCount)
        {
            var values = spikes.Slice(row, AfferentCount);
            for (var i = 0; i < values.Length; i++)
            {
                var s = values[i];
                if (s >= 0 && s < float.PositiveInfinity)
                {
                    EnsureEventCapacity(_events + 1);
                    _afferents[_events] = i;
                    _times[_events] = s;
                    _events++;
                }
            }

            EndPattern();
        }
    }

    /// <summary>
    /// Writes the completed patterns as a dense <c>[patterns, AfferentCount]</c> spike-time array: each afferent's
    /// first spike time (as float32), or <c>-1</c> for a silent afferent.
    /// </summary>
    /// <param name="destination">At least <c>PatternCount * AfferentCount</c> floats.</param>
    /// <exception cref="ArgumentException">The destination is too short, or an afferent fires more than once in a pattern (the dense layout holds one spike per afferent).</exception>
    public void CopyToDense(Span<float> destination)
    {
        var required = (long)_patterns * AfferentCount;
        SpanChecks.Destination(destination, nameof(destination), "[patterns, AfferentCount]", required);

        for (var p = 0; p < _patterns; p++)
        {
            var repeated = this[p].FirstRepeatedAfferent(AfferentCount);
            if (repeated >= 0)
            {
                ThrowHelper.ElementRule(nameof(destination), string.Create(CultureInfo.InvariantCulture,
                    $"Pattern {p} has more than one spike of afferent {repeated}; the dense layout holds one per afferent."));
            }
        }

        for (var p = 0; p < _patterns; p++)
        {
            this[p].FillDense(destination.Slice(p * AfferentCount, AfferentCount));
        }
    }

    /// <summary>Gets the events of completed pattern <paramref name="pattern"/>.</summary>
    /// <param name="pattern">The pattern, in <c>[0, PatternCount)</c>.</param>
    /// <returns>Its afferents and times, in the order added (or sorted by <see cref="SortByTime()"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pattern"/> is out of range.</exception>
    public SpikePattern this[int pattern]
    {
        get
        {
            if ((uint)pattern >= (uint)_patterns)
            {
                ThrowHelper.IntOutOfRange(nameof(pattern), pattern, 0, _patterns - 1);
            }

            var start = _offsets[pattern];
            var length = _offsets[pattern + 1] - start;
            return new SpikePattern(_afferents.AsSpan(start, length), _times.AsSpan(start, length), _order[pattern]);
        }
    }

    private void ThrowIfOpen()
    {
        if (_events != _offsets[_patterns])
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"A pattern is open ({_events - _offsets[_patterns]} events added with Add); call EndPattern first."));
        }
    }

    private void EnsureEventCapacity(int needed)
    {
        if (needed > _afferents.Length)
        {
            var size = (int)Math.Min(Array.MaxLength, Math.Max(needed, 2L * _afferents.Length));
            Array.Resize(ref _afferents, size);
            Array.Resize(ref _times, size);
        }
    }

    /// <summary>Sorts by (time, afferent); a sorted pattern costs one pass. Allocation-free.</summary>
    internal static void SortByTime(Span<double> times, Span<int> afferents)
    {
        var sorted = true;
        for (var k = 1; k < times.Length && sorted; k++)
        {
            sorted = times[k - 1] < times[k] || (times[k - 1] == times[k] && afferents[k - 1] <= afferents[k]);
        }

        if (sorted)
        {
            return;
        }

        times.Sort(afferents);

        // Equal times: order by afferent, so the result does not depend on the order events were added in.
        for (var start = 0; start < times.Length;)
        {
            var end = start + 1;
            while (end < times.Length && times[end] == times[start])
            {
                end++;
            }

            if (end - start > 1)
            {
                afferents[start..end].Sort();
            }

            start = end;
        }
    }
}
