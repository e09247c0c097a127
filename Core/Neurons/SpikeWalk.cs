using System.Globalization;
using TimingBased.Events;

namespace TimingBased.Neurons;

/// <summary>What the walk knows of one output spike: its time, the slope of <c>V</c> just before it, and the maximum of
/// the stretch of trace it was born on (where it lies, and its value without this spike's reset): the tangency point
/// and the trace's height there when the spike is born at a critical threshold.</summary>
internal readonly record struct SpikeRecord(double Time, double Slope, double PeakTime, double PeakValue);

/// <summary>
/// The multi-spike tempotron's segment walk for one output: between distinct event times the voltage is
/// <c>a exp(-s/tau) - b exp(-s/tauS)</c>; the first point of a stretch with <c>V &gt;= theta</c> is a spike (the
/// stretch's maximum, then the bracketed root, as <see cref="ExactTempotron"/> finds its crossing), after which the
/// sums are rebased to the spike's time and <c>theta</c> is subtracted from <c>a</c>: the reset
/// <c>-theta exp(-(t - t_s)/tau)</c>. Per-thread; <see cref="Prepare"/> builds the segment table once per pattern.
/// </summary>
internal sealed class SpikeWalk
{
    /// <summary>The most output spikes one walk generates before it refuses (weights far above the threshold).</summary>
    public const int MaxSpikes = 1 << 22;

    private readonly ExactTempotron.SegmentScratch _segments = new();
    private KernelConstants _constants;
    private PspSegment _segment;

    public void Prepare(SpikePattern ordered, KernelConstants constants, PspSegment segment)
    {
        _constants = constants;
        _segment = segment;
        _segments.Prepare(ordered, constants.Window, constants.Tau, constants.TauS);
    }

    /// <summary>
    /// Walks one output's trace at threshold <paramref name="theta"/>: writes spike times (and records) as far as the
    /// destinations reach, and stops after <paramref name="stopAfter"/> spikes. Returns the number of spikes found.
    /// </summary>
    public int Run(SpikePattern ordered, ReadOnlySpan<double> w, double theta, Span<double> times, Span<SpikeRecord> records, int stopAfter)
    {
        var scratch = _segments;
        var afferents = ordered.Afferents;
        var v0 = _constants.V0;
        double a = 0, b = 0;
        var count = 0;
        var k = 0;
        for (var seg = 0; seg < scratch.Count; seg++)
        {
            for (var end = scratch.FirstEvent[seg + 1]; k < end; k++)
            {
                var x = v0 * w[afferents[k]];
                a += x;
                b += x;
            }

            count = Segment(_segment, ref a, ref b, scratch.Start[seg], scratch.Length[seg], scratch.DecayA[seg], scratch.DecayB[seg],
                theta, times, records, count, stopAfter);
            if (count >= stopAfter)
            {
                ThrowIfOverflowed(a, b);
                return count;
            }
        }

        ThrowIfOverflowed(a, b);
        return count;
    }

    /// <summary>The sums are finite unless weights near <c>double.MaxValue</c> overflowed them: report, never return NaN.</summary>
    private static void ThrowIfOverflowed(double a, double b)
    {
        if (!(double.IsFinite(a) && double.IsFinite(b)))
        {
            throw new InvalidOperationException("The trace overflowed (the weights are too large for double precision); no result is given.");
        }
    }

    /// <summary>
    /// Walks one segment <c>[start, start + length]</c> of the trace <c>a exp(-s/tau) - b exp(-s/tauS)</c> at threshold
    /// <paramref name="theta"/>: the first point of each stretch with <c>V &gt;= theta</c> is a spike (written from index
    /// <paramref name="count"/> on, as far as the destinations reach), after which the sums are rebased to the spike's
    /// time and <c>theta</c> is subtracted from <c>a</c>, the walk going on from there. Returns the new count; on
    /// return <paramref name="a"/>, <paramref name="b"/> are the sums at the segment's end, unless the walk stopped at
    /// <paramref name="stopAfter"/> spikes. <paramref name="decayA"/>, <paramref name="decayB"/> are the decays over
    /// the whole segment. The batch walk and the stream share it.
    /// </summary>
    public static int Segment(in PspSegment segment, ref double a, ref double b, double start, double length, double decayA, double decayB,
        double theta, Span<double> times, Span<SpikeRecord> records, int count, int stopAfter)
    {
        double invTau = segment.InverseTau, invTauS = segment.InverseTauS;
        var from = 0.0;
        double ea = decayA, eb = decayB;
        while (true)
        {
            var rest = length - from;
            var f0 = a - b;
            var fL = (a * ea) - (b * eb);
            var (max, at) = segment.Max(a, b, 0, rest, f0, fL, (b * invTauS) - (a * invTau), (b * invTauS * eb) - (a * invTau * ea));
            if (!(max >= theta))
            {
                break;
            }

            var s = f0 >= theta ? 0 : segment.FirstCrossing(a, b, at, theta);
            if (count < times.Length)
            {
                times[count] = start + from + s;
            }

            if (count < records.Length)
            {
                records[count] = new SpikeRecord(start + from + s, segment.Slope(a, b, s), start + from + at, max);
            }

            if (++count >= stopAfter)
            {
                return count;
            }

            if (count >= MaxSpikes)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"The neuron emits more than {MaxSpikes} spikes at threshold {theta:R} (its weights are far above the threshold); no result is given."));
            }

            // The reset: rebase to the spike's time, subtract theta from the tau component.
            a = (a * Math.Exp(-s * invTau)) - theta;
            b *= Math.Exp(-s * invTauS);
            from += s;
            ea = Math.Exp(-(length - from) * invTau);
            eb = Math.Exp(-(length - from) * invTauS);
        }

        a *= ea;
        b *= eb;
        return count;
    }

    /// <summary>
    /// The maximum of the unreset trace <c>V_0</c> over <c>[0, T]</c> and its earliest time (0 and 0 for a trace that never
    /// rises above 0): <c>theta*_1</c>, the threshold below which the neuron fires at least once.
    /// </summary>
    public (double Max, double At) MaxOfUnresetTrace(SpikePattern ordered, ReadOnlySpan<double> w)
    {
        var scratch = _segments;
        var afferents = ordered.Afferents;
        var v0 = _constants.V0;
        double invTau = 1 / _constants.Tau, invTauS = 1 / _constants.TauS;
        double a = 0, b = 0, best = 0, bestAt = 0;
        var k = 0;
        for (var seg = 0; seg < scratch.Count; seg++)
        {
            for (var end = scratch.FirstEvent[seg + 1]; k < end; k++)
            {
                var x = v0 * w[afferents[k]];
                a += x;
                b += x;
            }

            double ea = scratch.DecayA[seg], eb = scratch.DecayB[seg];
            var (max, at) = _segment.Max(a, b, 0, scratch.Length[seg], a - b, (a * ea) - (b * eb),
                (b * invTauS) - (a * invTau), (b * invTauS * eb) - (a * invTau * ea));
            if (max > best)
            {
                (best, bestAt) = (max, scratch.Start[seg] + at);
            }

            a *= ea;
            b *= eb;
        }

        ThrowIfOverflowed(a, b);
        return (best, bestAt);
    }
}
