using System.Globalization;
using TimingBased.Events;
using TimingBased.Internal;

namespace TimingBased.Neurons;

/// <summary>What one output neuron of an <see cref="ExactTempotron"/> did on one pattern.</summary>
/// <param name="Fired">Whether <c>V(t) &gt;= theta</c> for some <c>t</c> in <c>[0, T]</c>.</param>
/// <param name="CrossingTime">The first such <c>t</c>, exact; <c>NaN</c> when silent.</param>
/// <param name="VMax">The maximum of the trace over <c>[0, T]</c> (the shunted trace when the neuron fired).</param>
/// <param name="TMax">The earliest time of <paramref name="VMax"/>; 0 for a trace that never rises above 0.</param>
public readonly record struct ExactTempotronOutput(bool Fired, double CrossingTime, double VMax, double TMax);

/// <summary>
/// The tempotron of Gütig &amp; Sompolinsky (2006) in continuous time: exact first threshold crossing, shunting after
/// it, the maximum of the trace, all without a time grid. The grid approximation SpikingJelly computes is
/// <see cref="Tempotron"/>.
/// </summary>
/// <remarks>
/// <para>
/// Each of <see cref="Outputs"/> neurons computes <c>V(t) = sum_i w_i sum_j K(t - t_ij)</c> over the events
/// <c>(i, t_ij)</c> of a pattern, with <c>K(u) = V0 (exp(-u/tau) - exp(-u/tauS))</c> for <c>u &gt; 0</c>, else 0, and
/// <c>V0</c> normalising the peak of <c>K</c> to 1 (the paper's convention; SpikingJelly's grid model normalises it to
/// the threshold instead). Resting potential 0, threshold <see cref="Threshold"/>, window <c>[0, T]</c>.
/// </para>
/// <para>
/// Between consecutive input events <c>V(r + s) = a exp(-s/tau) - b exp(-s/tauS)</c>, with the sums <c>a</c>, <c>b</c>
/// rebased at every event (so nothing grows like <c>exp(t/tauS)</c>: windows of <c>10^6</c> ms are safe). The neuron
/// fires at the first <c>t_c</c> with <c>V(t_c) &gt;= theta</c>, found per segment from its maximum (end points and the
/// stationary point) and then a bracketed Newton root; input events at <c>t &gt;= t_c</c> have no effect (shunting).
/// Cost per pattern: <c>O(events)</c> exponentials shared by all outputs, then <c>O(events)</c> arithmetic per output.
/// See <c>docs/tempotron-exact.md</c>.
/// </para>
/// <para>
/// Reference: R. Gütig, H. Sompolinsky, "The tempotron: a neuron that learns spike timing-based decisions",
/// Nature Neuroscience 9 (2006) 420–428.
/// </para>
/// <para>
/// Thread safety: evaluation only reads the instance and uses per-thread scratch, so any number of evaluations may run
/// concurrently. Changing the weights (<see cref="SetWeights"/>, a <see cref="TempotronRule"/> step) while another
/// thread reads them is not safe.
/// </para>
/// </remarks>
public sealed class ExactTempotron
{
    /// <summary>The paper's membrane time constant: 15 ms.</summary>
    public const double DefaultTau = 15.0;

    /// <summary>The paper's synaptic time constant: 3.75 ms.</summary>
    public const double DefaultTauS = 3.75;

    /// <summary>The paper's threshold: 1 (with the resting potential at 0 and the PSP peak at 1).</summary>
    public const double DefaultThreshold = 1.0;

    /// <summary>The paper's pattern duration: 500 ms.</summary>
    public const double DefaultWindow = 500.0;

    [ThreadStatic]
    private static SegmentScratch? _scratch;

    private readonly double[] _weights; // [outputs, afferents]
    private readonly PspSegment _segment;

    /// <summary>Creates the model with all weights zero.</summary>
    /// <param name="afferents">The number of afferents <c>N</c>; at least 1.</param>
    /// <param name="outputs">The number of output neurons; at least 1.</param>
    /// <param name="window">The pattern duration <c>T</c>; finite and &gt; 0.</param>
    /// <param name="tau">The membrane time constant; finite, &gt; 0 and different from <paramref name="tauS"/>.</param>
    /// <param name="tauS">The synaptic time constant; finite and &gt; 0.</param>
    /// <param name="threshold">The firing threshold <c>theta</c>; finite and &gt; 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or constant breaks its rule, or <c>outputs * afferents</c> exceeds the largest array.</exception>
    public ExactTempotron(int afferents, int outputs, double window = DefaultWindow, double tau = DefaultTau,
        double tauS = DefaultTauS, double threshold = DefaultThreshold)
    {
        if (afferents < 1)
        {
            ThrowHelper.SizeTooSmall(nameof(afferents), afferents, 1);
        }

        if (outputs < 1)
        {
            ThrowHelper.SizeTooSmall(nameof(outputs), outputs, 1);
        }

        if ((long)afferents * outputs > Array.MaxLength)
        {
            ThrowHelper.SizeRule(nameof(outputs), outputs, string.Create(CultureInfo.InvariantCulture,
                $"outputs * afferents <= {Array.MaxLength}; afferents = {afferents}"));
        }

        if (!(double.IsFinite(window) && window > 0))
        {
            ThrowHelper.NotFinitePositive(nameof(window), window);
        }

        if (!(double.IsFinite(tau) && tau > 0))
        {
            ThrowHelper.NotFinitePositive(nameof(tau), tau);
        }

        if (!(double.IsFinite(tauS) && tauS > 0))
        {
            ThrowHelper.NotFinitePositive(nameof(tauS), tauS);
        }

        if (tau == tauS)
        {
            ThrowHelper.FloatOutOfRange(nameof(tauS), tauS, "tauS != tau (the kernel would vanish)");
        }

        if (!(double.IsFinite(threshold) && threshold > 0))
        {
            ThrowHelper.NotFinitePositive(nameof(threshold), threshold);
        }

        var tPeak = Tempotron.PeakTime(tau, tauS);
        var v0 = 1.0 / (Math.Exp(-tPeak / tau) - Math.Exp(-tPeak / tauS));
        if (!(double.IsFinite(tPeak) && tPeak > 0 && double.IsFinite(v0) && v0 > 0))
        {
            ThrowHelper.FloatOutOfRange(nameof(tau), tau, string.Create(CultureInfo.InvariantCulture,
                $"time constants whose tPeak and V0 are finite and non-zero; tauS = {tauS:R} gives tPeak = {tPeak:R}, V0 = {v0:R}"));
        }

        Afferents = afferents;
        Outputs = outputs;
        Window = window;
        Tau = tau;
        TauS = tauS;
        Threshold = threshold;
        TPeak = tPeak;
        V0 = v0;
        _weights = new double[afferents * outputs];
        _segment = new PspSegment(tau, tauS);
    }

    /// <summary>Gets the number of afferents <c>N</c>.</summary>
    public int Afferents { get; }

    /// <summary>Gets the number of output neurons.</summary>
    public int Outputs { get; }

    /// <summary>Gets the pattern duration <c>T</c>: the trace is evaluated on <c>[0, T]</c>.</summary>
    public double Window { get; }

    /// <summary>Gets the membrane time constant <c>tau</c>.</summary>
    public double Tau { get; }

    /// <summary>Gets the synaptic time constant <c>tauS</c>.</summary>
    public double TauS { get; }

    /// <summary>Gets the firing threshold <c>theta</c>.</summary>
    public double Threshold { get; }

    /// <summary>Gets the PSP peak time <c>tPeak = tau tauS ln(tau / tauS) / (tau - tauS)</c>.</summary>
    public double TPeak { get; }

    /// <summary>Gets the PSP normalisation <c>V0 = 1 / (exp(-tPeak/tau) - exp(-tPeak/tauS))</c>: one PSP peaks at 1.</summary>
    public double V0 { get; }

    /// <summary>Gets the weights, shape <c>[outputs, afferents]</c> row-major.</summary>
    internal Span<double> Weights => _weights;

    /// <summary>Returns weight <c>w[o, i]</c>.</summary>
    /// <param name="o">The output.</param>
    /// <param name="i">The afferent.</param>
    /// <returns>The weight.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An index is out of range.</exception>
    public double GetWeight(int o, int i)
    {
        if ((uint)o >= (uint)Outputs)
        {
            ThrowHelper.IntOutOfRange(nameof(o), o, 0, Outputs - 1);
        }

        if ((uint)i >= (uint)Afferents)
        {
            ThrowHelper.IntOutOfRange(nameof(i), i, 0, Afferents - 1);
        }

        return _weights[(o * Afferents) + i];
    }

    /// <summary>Copies the weights, <c>[outputs, afferents]</c> row-major, into <paramref name="destination"/>.</summary>
    /// <param name="destination">At least <c>outputs * afferents</c> doubles.</param>
    /// <exception cref="ArgumentException">The destination is too short.</exception>
    public void CopyWeightsTo(Span<double> destination)
    {
        if (destination.Length < _weights.Length)
        {
            ThrowHelper.DestinationTooShort(nameof(destination), "[outputs, afferents]", _weights.Length, destination.Length);
        }

        _weights.CopyTo(destination);
    }

    /// <summary>Replaces the weights.</summary>
    /// <param name="weights">Exactly <c>outputs * afferents</c> finite doubles, <c>[outputs, afferents]</c> row-major.</param>
    /// <exception cref="ArgumentException">The length is wrong or a weight is not finite; nothing changed.</exception>
    public void SetWeights(ReadOnlySpan<double> weights)
    {
        if (weights.Length != _weights.Length)
        {
            ThrowHelper.LengthMismatch(nameof(weights), "[outputs, afferents]", _weights.Length, weights.Length);
        }

        for (var k = 0; k < weights.Length; k++)
        {
            if (!double.IsFinite(weights[k]))
            {
                ThrowHelper.ElementRule(nameof(weights), string.Create(CultureInfo.InvariantCulture,
                    $"weights must be finite; it is {weights[k]:R} at (output {k / Afferents}, afferent {k % Afferents})."));
            }
        }

        weights.CopyTo(_weights);
    }

    /// <summary>Draws every weight from a Gaussian of mean 0 (the paper: standard deviation 0.001), seeded.</summary>
    /// <param name="seed">The seed.</param>
    /// <param name="standardDeviation">The standard deviation; finite and &gt;= 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="standardDeviation"/> breaks its rule.</exception>
    public void RandomizeWeights(int seed, double standardDeviation = 1e-3)
    {
        if (!(double.IsFinite(standardDeviation) && standardDeviation >= 0))
        {
            ThrowHelper.NotFiniteNonNegative(nameof(standardDeviation), standardDeviation);
        }

        var rng = new Random(seed);
        for (var k = 0; k < _weights.Length; k++)
        {
            // Box-Muller: 1 - u is in (0, 1], so the logarithm is finite.
            var u = 1.0 - rng.NextDouble();
            var v = rng.NextDouble();
            _weights[k] = standardDeviation * Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v);
        }
    }

    /// <summary>Evaluates every output on every pattern.</summary>
    /// <param name="patterns">The patterns; <c>AfferentCount</c> must equal <see cref="Afferents"/>.</param>
    /// <param name="destination">Receives <c>[patterns, outputs]</c> results.</param>
    /// <exception cref="ArgumentNullException"><paramref name="patterns"/> is null.</exception>
    /// <exception cref="ArgumentException">The patterns are over another number of afferents, or the destination is too short.</exception>
    /// <exception cref="InvalidOperationException">A trace overflowed double precision (weights near <c>double.MaxValue</c>).</exception>
    public void Evaluate(SpikeEvents patterns, Span<ExactTempotronOutput> destination)
    {
        ValidatePatterns(patterns);
        var required = (long)patterns.PatternCount * Outputs;
        if (destination.Length < required)
        {
            ThrowHelper.DestinationTooShort(nameof(destination), "[patterns, outputs]", required, destination.Length);
        }

        for (var p = 0; p < patterns.PatternCount; p++)
        {
            EvaluatePattern(patterns[p], destination.Slice(p * Outputs, Outputs));
        }
    }

    /// <summary>Evaluates every output on one pattern.</summary>
    /// <param name="pattern">The events, sorted by time (as <see cref="SpikeEvents"/> stores them), afferents in range.</param>
    /// <param name="destination">Receives <c>[outputs]</c> results.</param>
    /// <exception cref="ArgumentException">The destination is too short, an afferent is out of range, or the times are not sorted, finite and &gt;= 0.</exception>
    public void Evaluate(SpikePattern pattern, Span<ExactTempotronOutput> destination)
    {
        if (destination.Length < Outputs)
        {
            ThrowHelper.DestinationTooShort(nameof(destination), "[outputs]", Outputs, destination.Length);
        }

        ValidatePattern(pattern);
        EvaluatePattern(pattern, destination[..Outputs]);
    }

    /// <summary>Computes <c>V(t)</c> of one output on one pattern at the given times, by the definition (<c>O(events)</c> per time).</summary>
    /// <param name="pattern">The events.</param>
    /// <param name="output">The output neuron.</param>
    /// <param name="times">The times at which to evaluate.</param>
    /// <param name="destination">Receives <c>V</c> at each time; at least as long as <paramref name="times"/>.</param>
    /// <param name="shunted">Whether inputs at or after the crossing time (if the neuron fires) are ignored, as the model does.</param>
    /// <exception cref="ArgumentException">A length or the pattern is wrong.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="output"/> is out of range.</exception>
    public void Voltage(SpikePattern pattern, int output, ReadOnlySpan<double> times, Span<double> destination, bool shunted = true)
    {
        if ((uint)output >= (uint)Outputs)
        {
            ThrowHelper.IntOutOfRange(nameof(output), output, 0, Outputs - 1);
        }

        if (destination.Length < times.Length)
        {
            ThrowHelper.DestinationTooShort(nameof(destination), "[times]", times.Length, destination.Length);
        }

        ValidatePattern(pattern);
        var cutoff = double.PositiveInfinity;
        if (shunted)
        {
            var result = EvaluateOutput(pattern, output, Scratch(pattern));
            cutoff = result.Fired ? result.CrossingTime : double.PositiveInfinity;
        }

        var w = _weights.AsSpan(output * Afferents, Afferents);
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

    /// <summary>Adds <c>scale sum_{t_ij &lt; tMax} K(tMax - t_ij)</c> to <c>destination[i]</c> for every input event before <paramref name="tMax"/>.</summary>
    internal void AddRuleTerms(SpikePattern pattern, double tMax, double scale, Span<double> destination)
    {
        var times = pattern.Times;
        var afferents = pattern.Afferents;
        var factor = scale * V0;
        for (var k = 0; k < times.Length && times[k] < tMax; k++)
        {
            var u = tMax - times[k];
            destination[afferents[k]] += factor * (Math.Exp(-u / Tau) - Math.Exp(-u / TauS));
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
    internal void ValidatePattern(SpikePattern pattern)
    {
        if (pattern.Times.Length != pattern.Afferents.Length)
        {
            ThrowHelper.LengthMismatch(nameof(pattern), "[events] times like afferents", pattern.Afferents.Length, pattern.Times.Length);
        }

        var previous = 0.0;
        for (var k = 0; k < pattern.Count; k++)
        {
            var t = pattern.Times[k];
            if ((uint)pattern.Afferents[k] >= (uint)Afferents || !(double.IsFinite(t) && t >= previous))
            {
                ThrowHelper.ElementRule(nameof(pattern), string.Create(CultureInfo.InvariantCulture,
                    $"Event {k} (afferent {pattern.Afferents[k]}, time {t:R}) must have an afferent in [0, {Afferents}) and a finite time >= 0, not before the previous event's."));
            }

            previous = t;
        }
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
        var w = _weights.AsSpan(output * Afferents, Afferents);
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
                if (s == 0)
                {
                    (a, b) = (aBefore, bBefore); // inputs at the crossing time are shunted too
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
                var length = end - r;
                Start[count] = r;
                Length[count] = length;
                DecayA[count] = Math.Exp(-length / tau);
                DecayB[count] = Math.Exp(-length / tauS);
                FirstEvent[count + 1] = k;
                count++;
                r = end;
            }

            Count = count;
        }
    }
}
