using System.Globalization;
using System.Numerics.Tensors;
using TimingBased.Events;
using TimingBased.Internal;

namespace TimingBased.Neurons;

// Evaluation: the segment walk, the exact crossing, the shunted maximum, and the trace on request.
public sealed partial class ExactTempotron
{
    /// <summary>Evaluates every output on every pattern.</summary>
    /// <param name="patterns">The patterns; <c>AfferentCount</c> must equal <see cref="Afferents"/>.</param>
    /// <param name="destination">Receives <c>[patterns, outputs]</c> results.</param>
    /// <exception cref="ArgumentNullException"><paramref name="patterns"/> is null.</exception>
    /// <exception cref="ArgumentException">The patterns are over another number of afferents, or the destination is too short.</exception>
    /// <exception cref="InvalidOperationException">A trace overflowed double precision (weights near <c>double.MaxValue</c>); nothing was written.</exception>
    public void Evaluate(SpikeEvents patterns, Span<ExactTempotronOutput> destination)
    {
        ValidatePatterns(patterns);
        var required = (long)patterns.PatternCount * Outputs;
        SpanChecks.Destination(destination, nameof(destination), "[patterns, outputs]", required);

        if (!CannotOverflow(patterns.EventCount))
        {
            for (var p = 0; p < patterns.PatternCount; p++)
            {
                ThrowIfAnyTraceOverflows(InTimeOrder(patterns[p]));
            }
        }

        for (var p = 0; p < patterns.PatternCount; p++)
        {
            EvaluatePattern(InTimeOrder(patterns[p]), destination.Slice(p * Outputs, Outputs));
        }
    }

    /// <summary>Evaluates every output on one pattern.</summary>
    /// <param name="pattern">The events, in any order (a pattern that is not in time order is sorted into per-thread scratch), afferents in range.</param>
    /// <param name="destination">Receives <c>[outputs]</c> results.</param>
    /// <exception cref="ArgumentException">The destination is too short, an afferent is out of range, or a time is not finite and &gt;= 0.</exception>
    /// <exception cref="InvalidOperationException">A trace overflowed double precision (weights near <c>double.MaxValue</c>); nothing was written.</exception>
    public void Evaluate(SpikePattern pattern, Span<ExactTempotronOutput> destination)
    {
        SpanChecks.Destination(destination, nameof(destination), "[outputs]", Outputs);

        ValidatePattern(pattern);
        pattern = InTimeOrder(pattern);
        if (!CannotOverflow(pattern.Count))
        {
            ThrowIfAnyTraceOverflows(pattern);
        }

        EvaluatePattern(pattern, destination[..Outputs]);
    }

    /// <summary>
    /// Whether no pattern of at most <paramref name="events"/> events can overflow a trace: each sum is at most
    /// <c>events |V0| max|w|</c> (rounding included, with room to spare), so below a quarter of
    /// <see cref="double.MaxValue"/> nothing can reach infinity.
    /// </summary>
    private bool CannotOverflow(int events) => events * Math.Abs(V0) * MaxAbsWeight() <= double.MaxValue / 4;

    /// <summary>Evaluates every output without writing anything, so an overflow throws before any result is written.</summary>
    private void ThrowIfAnyTraceOverflows(SpikePattern pattern)
    {
        var scratch = Scratch(pattern);
        for (var o = 0; o < Outputs; o++)
        {
            _ = EvaluateOutput(pattern, o, scratch);
        }
    }

    /// <summary>
    /// Computes <c>V(t)</c> of one output on one pattern at the given times, by the definition (<c>O(events)</c> per
    /// time), with the model's shunting: inputs at or after the crossing time (if the neuron fires) are ignored.
    /// </summary>
    /// <param name="pattern">The events.</param>
    /// <param name="output">The output neuron.</param>
    /// <param name="times">The times at which to evaluate; not NaN (<c>V</c> is 0 before the first event and at <c>+Infinity</c>).</param>
    /// <param name="destination">Receives <c>V</c> at each time; at least as long as <paramref name="times"/>.</param>
    /// <exception cref="ArgumentException">A length or the pattern is wrong, or a time is NaN.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="output"/> is out of range.</exception>
    public void Voltage(SpikePattern pattern, int output, ReadOnlySpan<double> times, Span<double> destination) =>
        Voltage(pattern, output, times, shunted: true, destination);

    /// <summary>Computes <c>V(t)</c> of one output on one pattern at the given times, by the definition (<c>O(events)</c> per time).</summary>
    /// <param name="pattern">The events.</param>
    /// <param name="output">The output neuron.</param>
    /// <param name="times">The times at which to evaluate; not NaN (<c>V</c> is 0 before the first event and at <c>+Infinity</c>).</param>
    /// <param name="shunted">Whether inputs at or after the crossing time (if the neuron fires) are ignored, as the model does.</param>
    /// <param name="destination">Receives <c>V</c> at each time; at least as long as <paramref name="times"/>.</param>
    /// <exception cref="ArgumentException">A length or the pattern is wrong, or a time is NaN.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="output"/> is out of range.</exception>
    public void Voltage(SpikePattern pattern, int output, ReadOnlySpan<double> times, bool shunted, Span<double> destination)
    {
        if ((uint)output >= (uint)Outputs)
        {
            ThrowHelper.IntOutOfRange(nameof(output), output, 0, Outputs - 1);
        }

        SpanChecks.Destination(destination, nameof(destination), "[times]", times.Length);

        ThrowIfAnyNaN(times);
        ValidatePattern(pattern);
        pattern = InTimeOrder(pattern);
        var cutoff = double.PositiveInfinity;
        if (shunted)
        {
            var result = EvaluateOutput(pattern, output, Scratch(pattern));
            cutoff = result.Fired ? result.CrossingTime : double.PositiveInfinity;
        }

        var w = _weights.Row(output);
        for (var n = 0; n < times.Length; n++)
        {
            double v = 0;
            for (var k = 0; k < pattern.Count && pattern.Times[k] < cutoff; k++)
            {
                var u = times[n] - pattern.Times[k];
                if (u > 0)
                {
                    v += w[pattern.Afferents[k]] * V0 * (Math.Exp(-u / Tau) - Math.Exp(-u / TauS));
                }
            }

            destination[n] = v;
        }
    }

    /// <summary>Throws, naming <c>times</c>, unless every evaluation time is a number (an infinite time gives <c>V = 0</c>).</summary>
    internal static void ThrowIfAnyNaN(ReadOnlySpan<double> times)
    {
        for (var n = 0; n < times.Length; n++)
        {
            if (double.IsNaN(times[n]))
            {
                ThrowHelper.ElementRule(nameof(times), string.Create(CultureInfo.InvariantCulture,
                    $"times[{n}] is NaN; every time must be a number (an infinite time gives V = 0)."));
            }
        }
    }

    /// <summary>Adds <c>scale sum_{t_ij &lt; tMax} K(tMax - t_ij)</c> to <c>destination[i]</c> for every input event before <paramref name="tMax"/>.</summary>
    internal void AddRuleTerms(SpikePattern pattern, double tMax, double scale, Span<double> destination) =>
        AddPsps(pattern, tMax, scale * V0, Tau, TauS, destination);

    /// <summary>
    /// Adds <c>factor sum_{t_ik &lt; t} (exp(-(t - t_ik)/tau) - exp(-(t - t_ik)/tauS))</c> to <c>destination[i]</c> for every
    /// afferent of a time-ordered pattern: each afferent's PSPs at <paramref name="t"/>, times <c>factor / V0</c>.
    /// </summary>
    internal static void AddPsps(SpikePattern ordered, double t, double factor, double tau, double tauS, Span<double> destination)
    {
        var times = ordered.Times;
        var afferents = ordered.Afferents;
        for (var k = 0; k < times.Length && times[k] < t; k++)
        {
            var u = t - times[k];
            destination[afferents[k]] += factor * (Math.Exp(-u / tau) - Math.Exp(-u / tauS));
        }
    }

    internal void ValidatePatterns(SpikeEvents patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        if (patterns.AfferentCount != Afferents)
        {
            ThrowHelper.ElementRule(nameof(patterns), string.Create(CultureInfo.InvariantCulture,
                $"patterns must be over {Afferents} afferents (the model's); they are over {patterns.AfferentCount}."));
        }
    }

    /// <summary>A pattern built outside <see cref="SpikeEvents"/> (a raw <see cref="SpikePattern"/>) is checked in full.</summary>
    internal void ValidatePattern(SpikePattern pattern) => ValidatePattern(pattern, Afferents);

    /// <summary>Checks a pattern over <paramref name="afferents"/> afferents: lengths, afferents in range, times finite and &gt;= 0.</summary>
    internal static void ValidatePattern(SpikePattern pattern, int afferents)
    {
        if (pattern.Times.Length != pattern.Afferents.Length)
        {
            ThrowHelper.LengthMismatch(nameof(pattern), "[events] times like afferents", pattern.Afferents.Length, pattern.Times.Length);
        }

        for (var k = 0; k < pattern.Count; k++)
        {
            var t = pattern.Times[k];
            if ((uint)pattern.Afferents[k] >= (uint)afferents || !(double.IsFinite(t) && t >= 0))
            {
                ThrowHelper.ElementRule(nameof(pattern), string.Create(CultureInfo.InvariantCulture,
                    $"Event {k} (afferent {pattern.Afferents[k]}, time {t:R}) must have an afferent in [0, {afferents}) and a finite time >= 0."));
            }
        }
    }

    [ThreadStatic]
    private static double[]? _sortedTimes;

    [ThreadStatic]
    private static int[]? _sortedAfferents;

    /// <summary>The pattern itself if its events are in time order, else a copy sorted by (time, afferent) in per-thread scratch.</summary>
    internal static SpikePattern InTimeOrder(SpikePattern pattern)
    {
        if (pattern.IsTimeOrdered)
        {
            return pattern;
        }

        var n = pattern.Count;
        if (_sortedTimes is null || _sortedTimes.Length < n)
        {
            _sortedTimes = new double[Math.Max(n, 64)];
            _sortedAfferents = new int[_sortedTimes.Length];
        }

        var times = _sortedTimes.AsSpan(0, n);
        var afferents = _sortedAfferents.AsSpan(0, n);
        pattern.Times.CopyTo(times);
        pattern.Afferents.CopyTo(afferents);
        SpikeEvents.SortByTime(times, afferents);
        return new SpikePattern(afferents, times, (byte)(1 | (pattern.IsAfferentOrdered && n <= 1 ? 2 : 0)));
    }

    internal void EvaluatePattern(SpikePattern pattern, Span<ExactTempotronOutput> destination)
    {
        var scratch = Scratch(pattern);
        for (var o = 0; o < Outputs; o++)
        {
            destination[o] = EvaluateOutput(pattern, o, scratch);
        }
    }

    /// <summary>
    /// The per-pattern part shared by all outputs: the segments between distinct event times inside the window,
    /// each with its start, its first event, its length and the two decays over it.
    /// </summary>
    private SegmentScratch Scratch(SpikePattern pattern)
    {
        var scratch = _scratch ??= new SegmentScratch();
        scratch.Prepare(pattern, Window, Tau, TauS);
        return scratch;
    }

    /// <summary>One output on one pattern: the segment walk, the crossing, the shunted maximum.</summary>
    internal ExactTempotronOutput EvaluateOutput(SpikePattern pattern, int output, SegmentScratch scratch)
    {
        var w = _weights.Row(output);
        var afferents = pattern.Afferents;
        var v0 = V0;
        var theta = Threshold;
        var invTau = 1 / Tau;
        var invTauS = 1 / TauS;
        double a = 0, b = 0;
        double vMax = 0, tMax = 0;
        var k = 0;
        for (var seg = 0; seg < scratch.Count; seg++)
        {
            var start = scratch.Start[seg];
            double aBefore = a, bBefore = b; // without the events at `start`, for a crossing exactly there
            for (var end = scratch.FirstEvent[seg + 1]; k < end; k++)
            {
                var x = v0 * w[afferents[k]];
                a += x;
                b += x;
            }

            var length = scratch.Length[seg];
            var ea = scratch.DecayA[seg];
            var eb = scratch.DecayB[seg];
            var f0 = a - b;
            var fL = (a * ea) - (b * eb);
            var slope0 = (b * invTauS) - (a * invTau);
            var slopeL = (b * invTauS * eb) - (a * invTau * ea);
            var (max, at) = _segment.Max(a, b, 0, length, f0, fL, slope0, slopeL);
            if (max >= theta)
            {
                var s = f0 >= theta ? 0 : _segment.FirstCrossing(a, b, at, theta);
                var crossing = start + s;
                if (crossing == start)
                {
                    // The crossing is at the inputs' time (s = 0, or below the resolution of the time itself): they are
                    // shunted too, as the reported crossing time says (inputs at t >= t_c have no effect).
                    (a, b) = (aBefore, bBefore);
                }

                // Shunting: from the crossing on only earlier inputs count: one segment to the window's end.
                var last = Window - start;
                var fs = _segment.Value(a, b, s);
                var (sMax, sAt) = _segment.Max(a, b, s, last, fs, _segment.Value(a, b, last));
                ThrowIfOverflowed(a, b, output);
                return new ExactTempotronOutput(true, crossing, sMax, start + sAt);
            }

            if (max > vMax)
            {
                vMax = max;
                tMax = start + at;
            }

            a *= ea;
            b *= eb;
        }

        ThrowIfOverflowed(a, b, output);
        return new ExactTempotronOutput(false, double.NaN, vMax, tMax);
    }

    /// <summary>The sums are finite unless weights near <c>double.MaxValue</c> overflowed them: report, never return NaN.</summary>
    private static void ThrowIfOverflowed(double a, double b, int output)
    {
        if (!(double.IsFinite(a) && double.IsFinite(b)))
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The trace of output {output} overflowed (its weights are too large for double precision); no result is given."));
        }
    }

    /// <summary>Per-thread segment table of one pattern; grows to the largest pattern, then reuses its arrays.</summary>
    internal sealed class SegmentScratch
    {
        public double[] Start = new double[64];
        public double[] Length = new double[64];
        public double[] DecayA = new double[64];
        public double[] DecayB = new double[64];
        public int[] FirstEvent = new int[65]; // FirstEvent[seg + 1]: events before it belong to segments <= seg
        public int Count;

        /// <summary>Segments <c>[t_k, t_k+1]</c> between distinct event times in <c>[0, T)</c>, from 0 to <c>T</c>.</summary>
        public void Prepare(SpikePattern pattern, double window, double tau, double tauS)
        {
            var times = pattern.Times;
            var capacity = times.Length + 2;
            if (Start.Length < capacity)
            {
                var size = Math.Max(capacity, 2 * Start.Length);
                Start = new double[size];
                Length = new double[size];
                DecayA = new double[size];
                DecayB = new double[size];
                FirstEvent = new int[size + 1];
            }

            var count = 0;
            var k = 0;
            var r = 0.0;
            while (r < window)
            {
                while (k < times.Length && times[k] <= r)
                {
                    k++; // events at or before the segment's start enter at its start
                }

                var end = k < times.Length ? Math.Min(times[k], window) : window;
                Start[count] = r;
                Length[count] = end - r;
                FirstEvent[count + 1] = k;
                count++;
                r = end;
            }

            // The decays over every segment at once: TensorPrimitives' vectorised exponential.
            var lengths = Length.AsSpan(0, count);
            TensorPrimitives.Multiply(lengths, -1 / tau, DecayA.AsSpan(0, count));
            TensorPrimitives.Exp(DecayA.AsSpan(0, count), DecayA.AsSpan(0, count));
            TensorPrimitives.Multiply(lengths, -1 / tauS, DecayB.AsSpan(0, count));
            TensorPrimitives.Exp(DecayB.AsSpan(0, count), DecayB.AsSpan(0, count));
            Count = count;
        }
    }
}
