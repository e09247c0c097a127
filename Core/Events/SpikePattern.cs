namespace TimingBased.Events;

/// <summary>The events of one pattern: parallel spans of afferents and times, with what is known of their order.</summary>
public readonly ref struct SpikePattern
{
    private readonly byte _order;

    /// <summary>Wraps parallel spans of afferents and times (any order; the order flags are computed here, one pass).</summary>
    /// <param name="afferents">The afferent of each event.</param>
    /// <param name="times">The time of each event.</param>
    public SpikePattern(ReadOnlySpan<int> afferents, ReadOnlySpan<double> times)
        : this(afferents, times, times.Length == afferents.Length ? SpikeEvents.Order(afferents, times) : (byte)0)
    {
    }

    internal SpikePattern(ReadOnlySpan<int> afferents, ReadOnlySpan<double> times, byte order)
    {
        Afferents = afferents;
        Times = times;
        _order = order;
    }

    /// <summary>Gets the afferent of each event.</summary>
    public ReadOnlySpan<int> Afferents { get; }

    /// <summary>Gets the time of each event.</summary>
    public ReadOnlySpan<double> Times { get; }

    /// <summary>Gets the number of events.</summary>
    public int Count => Afferents.Length;

    /// <summary>Gets whether the times are non-decreasing.</summary>
    public bool IsTimeOrdered => (_order & 1) != 0;

    /// <summary>Gets whether the afferents are strictly increasing (one event per afferent, in afferent order).</summary>
    public bool IsAfferentOrdered => (_order & 2) != 0;

    /// <summary>The first afferent listed more than once (in event order), or -1: O(events), with a per-thread stamp array.</summary>
    internal int FirstRepeatedAfferent(int afferentCount) =>
        IsAfferentOrdered ? -1 : AfferentStamps.FirstRepeated(Afferents, afferentCount);

    /// <summary>Writes the pattern as a dense row of spike times (-1 where silent); the caller has checked it lists each afferent once.</summary>
    internal void FillDense(Span<float> row)
    {
        row.Fill(-1f);
        for (var k = 0; k < Afferents.Length; k++)
        {
            row[Afferents[k]] = (float)Times[k];
        }
    }
}
