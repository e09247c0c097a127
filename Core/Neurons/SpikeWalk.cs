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
            AddInputs(afferents, w, v0, scratch.FirstEvent[seg + 1], ref k, ref a, ref b);

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

    /// <summary>Adds the inputs <c>k</c> up to <paramref name="end"/> (those at a segment's start) to both sums: <c>V0 w_i</c> each.</summary>
    private static void AddInputs(ReadOnlySpan<int> afferents, ReadOnlySpan<double> w, double v0, int end, ref int k, ref double a, ref double b)
    {
        for (; k < end; k++)
        {
            var x = v0 * w[afferents[k]];
            a += x;
            b += x;
        }
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
    /// The eligibility of every afferent for the correlation rule: <c>e_i = integral_0^T V(t) P_i(t) dt</c>, the
    /// correlation of its PSPs with the voltage (resets included) at threshold <paramref name="theta"/>, written to
    /// <paramref name="eligibility"/> (overwritten, and untouched when the walk throws). Since <c>P_i</c> is a sum of kernels, <c>e_i = sum_{t_ij} C(t_ij)</c> with
    /// <c>C(t0) = V0 (F_tau(t0) - F_tauS(t0))</c> and <c>F_c(t0) = integral_t0^T V(t) exp(-(t - t0)/c) dt</c>, which one
    /// backward pass over the stretches of trace gives (on a stretch <c>V = A e^(-s/tau) - B e^(-s/tauS)</c>, each
    /// integral is closed-form), so the cost is that of a walk: <c>O(events + spikes)</c>.
    /// </summary>
    public void Eligibility(SpikePattern ordered, ReadOnlySpan<double> w, double theta, Span<double> eligibility)
    {
        var scratch = _segments;
        var afferents = ordered.Afferents;
        var v0 = _constants.V0;
        double tau = _constants.Tau, tauS = _constants.TauS;
        _stretches.Clear();

        // Forward: the stretches of trace, split at the spikes, with their sums at their starts.
        double a = 0, b = 0;
        var k = 0;
        Span<double> spike = stackalloc double[1];
        for (var seg = 0; seg < scratch.Count; seg++)
        {
            AddInputs(afferents, w, v0, scratch.FirstEvent[seg + 1], ref k, ref a, ref b);

            var start = scratch.Start[seg];
            var length = scratch.Length[seg];
            double ea = scratch.DecayA[seg], eb = scratch.DecayB[seg];
            while (true)
            {
                // The next spike in this stretch, if any: the walk's own step, stopped at one spike.
                double sa = a, sb = b;
                var found = Segment(_segment, ref sa, ref sb, start, length, ea, eb, theta, spike, [], 0, 1);
                if (found == 0)
                {
                    _stretches.Add((start, length, a, b));
                    (a, b) = (sa, sb);
                    break;
                }

                var s = spike[0] - start;
                _stretches.Add((start, s, a, b));
                a = (a * Math.Exp(-s / tau)) - theta;
                b *= Math.Exp(-s / tauS);
                (start, length) = (spike[0], length - s);
                (ea, eb) = (Math.Exp(-length / tau), Math.Exp(-length / tauS));
            }
        }

        ThrowIfOverflowed(a, b);

        // Backward: F_tau and F_tauS at every stretch start; C at each segment start (an input time) goes to its inputs.
        // Nothing is written before this point, so a walk that throws leaves the destination as it was.
        eligibility.Clear();
        double fTau = 0, fTauS = 0;
        double twoTau = 2 / tau, twoTauS = 2 / tauS, mixed = (1 / tau) + (1 / tauS);
        k = scratch.FirstEvent[scratch.Count];
        for (var j = _stretches.Count - 1; j >= 0; j--)
        {
            var (start, length, sa, sb) = _stretches[j];
            var ea = Math.Exp(-length / tau);
            var eb = Math.Exp(-length / tauS);
            var iTau = (1 - (ea * ea)) / twoTau;
            var iMixed = (1 - (ea * eb)) / mixed;
            var iTauS = (1 - (eb * eb)) / twoTauS;
            fTau = (sa * iTau) - (sb * iMixed) + (ea * fTau);
            fTauS = (sa * iMixed) - (sb * iTauS) + (eb * fTauS);
            var c = v0 * (fTau - fTauS);
            for (; k > 0 && ordered.Times[k - 1] >= start; k--)
            {
                if (ordered.Times[k - 1] == start)
                {
                    eligibility[afferents[k - 1]] += c;
                }
            }
        }
    }

    private readonly List<(double Start, double Length, double A, double B)> _stretches = [];

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
            AddInputs(afferents, w, v0, scratch.FirstEvent[seg + 1], ref k, ref a, ref b);

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
