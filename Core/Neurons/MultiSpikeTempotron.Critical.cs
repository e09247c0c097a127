using TimingBased.Events;
using TimingBased.Internal;

namespace TimingBased.Neurons;

// The critical thresholds theta*_k of the spike-threshold surface and their gradients with respect to the weights.
public sealed partial class MultiSpikeTempotron
{
    /// <summary>The ratio between the thresholds of the downward scan that brackets <c>theta*_k</c> (eight steps an octave).</summary>
    internal const double ScanRatio = 0.9170040432046712; // 2^(-1/8)

    [ThreadStatic]
    private static SpikeRecord[]? _below;

    [ThreadStatic]
    private static SpikeRecord[]? _above;

    /// <summary>The <paramref name="k"/>-th critical threshold of one output on one pattern.</summary>
    /// <param name="pattern">The events, in any order; afferents in range, times finite and &gt;= 0.</param>
    /// <param name="output">The output neuron.</param>
    /// <param name="k">The spike count, at least 1.</param>
    /// <returns><c>theta*_k</c> and <c>t*_k</c>, or <see cref="CriticalThreshold.Undefined"/> (a normal result, never an exception) for a trace that never rises above 0.</returns>
    /// <exception cref="ArgumentException">The pattern is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="output"/> or <paramref name="k"/> is out of range.</exception>
    public CriticalThreshold CriticalThreshold(SpikePattern pattern, int output, int k) => CriticalThreshold(pattern, output, k, []);

    /// <summary>The <paramref name="k"/>-th critical threshold of one output on one pattern, and its gradient with respect to that output's weights.</summary>
    /// <param name="pattern">The events, in any order; afferents in range, times finite and &gt;= 0.</param>
    /// <param name="output">The output neuron.</param>
    /// <param name="k">The spike count, at least 1.</param>
    /// <param name="gradient">Empty, or at least <c>afferents</c> doubles: its first <c>afferents</c> receive <c>d theta*_k / d w[output, i]</c> (zeros when undefined).</param>
    /// <returns><c>theta*_k</c> and <c>t*_k</c>, or <see cref="CriticalThreshold.Undefined"/> for a trace that never rises above 0.</returns>
    /// <exception cref="ArgumentException">The pattern is invalid, or <paramref name="gradient"/> is too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="output"/> or <paramref name="k"/> is out of range.</exception>
    public CriticalThreshold CriticalThreshold(SpikePattern pattern, int output, int k, Span<double> gradient)
    {
        CheckOutput(output);
        if (k < 1)
        {
            ThrowHelper.SizeTooSmall(nameof(k), k, 1);
        }

        if (!gradient.IsEmpty)
        {
            gradient = SpanChecks.Destination(gradient, nameof(gradient), "[afferents]", Afferents);
        }

        var ordered = Prepare(pattern, out var walk);
        return CriticalOfPrepared(ordered, walk, output, k, gradient);
    }

    /// <summary><see cref="CriticalThreshold(SpikePattern, int, int, Span{double})"/> on a checked, time-ordered pattern whose walk is ready.</summary>
    internal CriticalThreshold CriticalOfPrepared(SpikePattern ordered, SpikeWalk walk, int output, int k, Span<double> gradient)
    {
        var (critical, before) = Search(ordered, _weights.Row(output), k, walk);
        if (!gradient.IsEmpty)
        {
            gradient.Clear();
            if (critical.IsDefined)
            {
                AddGradient(ordered, critical, _below.AsSpan(0, before), gradient);
            }
        }

        return critical;
    }

    /// <summary>
    /// <c>theta*_k</c> and the number of spikes before the one born there (their records are the first entries of
    /// <c>_below</c>). <c>theta*_1</c> is the maximum of the unreset trace. For <c>k &gt;= 2</c>: a downward scan from it
    /// (where <c>N = 1</c>) finds a threshold with <c>N &gt;= k</c>; bisection on <c>N</c> narrows the bracket to
    /// <see cref="NewtonWidth"/>, safeguarded Newton steps on the tangency close it, and bisection finishes at adjacent
    /// doubles (every step keeps <c>N(lo) &gt;= k &gt; N(hi)</c>, so the result does not depend on Newton converging). The
    /// spike born at <c>theta*_k</c> is the first that the trains on the two sides do not share, and <c>t*_k</c> is the
    /// maximum of the stretch of trace it was born on.
    /// </summary>
    private (CriticalThreshold Critical, int Before) Search(SpikePattern ordered, ReadOnlySpan<double> w, int k, SpikeWalk walk)
    {
        var (vMax, tMax) = walk.MaxOfUnresetTrace(ordered, w);
        if (!(vMax > 0))
        {
            return (Neurons.CriticalThreshold.Undefined, 0);
        }

        if (k == 1)
        {
            return (new CriticalThreshold(true, vMax, tMax), 0);
        }

        double hi = vMax, lo = vMax * ScanRatio;
        while (walk.Run(ordered, w, lo, [], [], k) < k)
        {
            (hi, lo) = (lo, lo * ScanRatio);
            if (!(lo > 0))
            {
                return (Neurons.CriticalThreshold.Undefined, 0); // not reached for a positive trace: N grows without bound as theta falls
            }
        }

        // Bisection until the bracket is narrow enough for Newton's method on the tangency to take over.
        var below = Records(ref _below, k);
        var above = Records(ref _above, k);
        while (hi - lo > NewtonWidth * hi && Bisect(ordered, w, k, walk, ref lo, ref hi))
        {
        }

        // Newton on g(theta) = M(theta) - theta, the height of the newborn spike's stretch above the threshold, whose
        // derivative is -(1 + E* + (theta/tau) sum e*_r B_r): the gradient's denominator. It lands within rounding of
        // theta*; probes 1, 4, 16, ... ulps from there, on the side where theta* is, close the bracket. Every test
        // keeps N(lo) >= k > N(hi), and bisection takes over whenever a step would leave the bracket, so the result
        // does not depend on Newton converging.
        for (var step = 0; step < 4 && NextDouble(lo) < hi; step++)
        {
            walk.Run(ordered, w, lo, [], below, k);
            var born = Born(below, above, walk.Run(ordered, w, hi, [], above, k), hi - lo);
            var denominator = TangencyDenominator(below[..born], below[born].PeakTime, lo, default);
            var next = Math.Max(lo, lo + ((below[born].PeakValue - lo) / denominator));
            if (!(next < hi))
            {
                Bisect(ordered, w, k, walk, ref lo, ref hi);
                continue;
            }

            var fires = next == lo || walk.Run(ordered, w, next, [], [], k) >= k;
            (lo, hi) = fires ? (next, hi) : (lo, next);
            if (Probe(ordered, w, k, walk, ref lo, ref hi, upward: fires))
            {
                break;
            }
        }

        while (Bisect(ordered, w, k, walk, ref lo, ref hi))
        {
        }

        walk.Run(ordered, w, lo, [], below, k);
        var count = walk.Run(ordered, w, hi, [], above, k);
        var index = Born(below, above, count, hi - lo);
        return (new CriticalThreshold(true, lo, below[index].PeakTime), index);
    }

    /// <summary>The relative bracket width below which Newton's method takes over from bisection.</summary>
    private const double NewtonWidth = 1e-5;

    private static double NextDouble(double x) => Math.BitIncrement(x);

    /// <summary>
    /// Steps 1, 4, 16, ... ulps from <paramref name="lo"/> upward (or from <paramref name="hi"/> downward) while
    /// <c>N &gt;= k</c> (or <c>&lt; k</c>) holds, moving that end; true once a probe moved the other end, closing the bracket.
    /// </summary>
    private static bool Probe(SpikePattern ordered, ReadOnlySpan<double> w, int k, SpikeWalk walk, ref double lo, ref double hi, bool upward)
    {
        var from = upward ? lo : hi;
        var ulp = Math.BitIncrement(from) - from;
        for (var d = 1.0; d < 1e6; d *= 4)
        {
            var probe = upward ? from + (d * ulp) : from - (d * ulp);
            if (!(probe > lo && probe < hi))
            {
                return false;
            }

            var fires = walk.Run(ordered, w, probe, [], [], k) >= k;
            if (fires)
            {
                lo = probe;
            }
            else
            {
                hi = probe;
            }

            if (fires != upward)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One bisection step on <c>N(theta) &gt;= k</c>; false when no double lies between the ends.</summary>
    private static bool Bisect(SpikePattern ordered, ReadOnlySpan<double> w, int k, SpikeWalk walk, ref double lo, ref double hi)
    {
        var mid = lo + (0.5 * (hi - lo));
        if (mid <= lo || mid >= hi)
        {
            return false;
        }

        if (walk.Run(ordered, w, mid, [], [], k) >= k)
        {
            lo = mid;
        }
        else
        {
            hi = mid;
        }

        return true;
    }

    /// <summary>
    /// The index of the spike born between two thresholds <paramref name="width"/> apart: the trains agree up to it
    /// (each earlier spike moves by its <c>dt/dtheta</c> times the width, allowed up to 10^4 times it, and to rounding),
    /// and the one with <c>N &gt;= k</c> has it where the other has none or a later spike.
    /// </summary>
    private int Born(ReadOnlySpan<SpikeRecord> below, ReadOnlySpan<SpikeRecord> above, int aboveCount, double width)
    {
        var tolerance = Math.Max(1e-9 * Math.Max(1, Window), 1e4 * width);
        var born = 0;
        while (born < aboveCount && born < below.Length - 1 && Math.Abs(below[born].Time - above[born].Time) <= tolerance)
        {
            born++;
        }

        return born;
    }

    private static Span<SpikeRecord> Records(ref SpikeRecord[]? buffer, int k)
    {
        if (buffer is null || buffer.Length < k)
        {
            buffer = new SpikeRecord[Math.Max(k, 16)];
        }

        return buffer.AsSpan(0, k);
    }

    /// <summary>
    /// Adds <c>d theta* / d w</c> by implicit differentiation (docs/multi-spike.md): at <c>theta*</c> the trace touches the
    /// threshold at <c>t*</c> (<c>V(t*) = theta</c>, with <c>V'(t*) = 0</c> or <c>t*</c> at an input's time or at <c>T</c>, so
    /// <c>t*</c>'s own motion drops out), and each earlier spike <c>t_j</c> keeps <c>V(t_j) = theta</c> as the weights move.
    /// With <c>E(t) = sum_{t_r &lt; t} exp(-(t - t_r)/tau)</c> and <c>P_i(t) = sum_{t_ik &lt; t} K(t - t_ik)</c>:
    /// <c>dt_j = (-P(t_j) + (theta/tau) sum_{r&lt;j} e_jr dt_r + (1 + E_j) dtheta) / V'_j</c>, and
    /// <c>(1 + E*) dtheta = P(t*) - (theta/tau) sum_r e*_r dt_r</c>. Each <c>dt_j</c> is <c>A_j + B_j dtheta</c>; the
    /// scalars <c>B_j</c> go forward, the coefficients of the <c>P(t_j)</c> come from one backward (adjoint) pass.
    /// </summary>
    private void AddGradient(SpikePattern ordered, CriticalThreshold critical, ReadOnlySpan<SpikeRecord> spikes, Span<double> gradient)
    {
        var m = spikes.Length;
        var theta = critical.Theta;
        var rate = theta / Tau;
        Span<double> b = m <= 64 ? stackalloc double[m] : new double[m];
        Span<double> lambda = m <= 64 ? stackalloc double[m] : new double[m];
        var denominator = TangencyDenominator(spikes, critical.Time, theta, b);
        for (var r = 0; r < m; r++)
        {
            lambda[r] = -rate * Math.Exp(-(critical.Time - spikes[r].Time) / Tau);
        }

        AddPsps(ordered, critical.Time, 1 / denominator, gradient);
        for (var j = m - 1; j >= 0; j--)
        {
            var coefficient = -lambda[j] / spikes[j].Slope; // the weight of P(t_j)
            AddPsps(ordered, spikes[j].Time, coefficient / denominator, gradient);
            for (var q = 0; q < j; q++)
            {
                lambda[q] += lambda[j] * rate * Math.Exp(-(spikes[j].Time - spikes[q].Time) / Tau) / spikes[j].Slope;
            }
        }
    }

    /// <summary>
    /// <c>1 + E* + (theta/tau) sum_r e*_r B_r</c> with <c>B_j = (1 + E_j + (theta/tau) sum_{r&lt;j} e_jr B_r) / V'_j</c> over
    /// the spikes before <paramref name="tStar"/>: minus the derivative of <c>V(t*) - theta</c> with respect to
    /// <c>theta</c>, and the denominator of the gradient. Writes the <c>B_j</c> into <paramref name="b"/> when it is not empty.
    /// </summary>
    private double TangencyDenominator(ReadOnlySpan<SpikeRecord> spikes, double tStar, double theta, Span<double> b)
    {
        var m = spikes.Length;
        var rate = theta / Tau;
        Span<double> bs = b.IsEmpty ? (m <= 64 ? stackalloc double[m] : new double[m]) : b;
        double eStar = 0, sumStar = 0;
        for (var j = 0; j < m; j++)
        {
            double e = 0, sum = 0;
            for (var r = 0; r < j; r++)
            {
                var ejr = Math.Exp(-(spikes[j].Time - spikes[r].Time) / Tau);
                e += ejr;
                sum += ejr * bs[r];
            }

            bs[j] = (1 + e + (rate * sum)) / spikes[j].Slope;
            var ej = Math.Exp(-(tStar - spikes[j].Time) / Tau);
            eStar += ej;
            sumStar += ej * bs[j];
        }

        return 1 + eStar + (rate * sumStar);
    }

    /// <summary>Adds <c>scale P_i(t) = scale sum_{t_ik &lt; t} K(t - t_ik)</c> to <c>destination[i]</c> for every afferent.</summary>
    private void AddPsps(SpikePattern ordered, double t, double scale, Span<double> destination) =>
        ExactTempotron.AddPsps(ordered, t, scale * V0, Tau, TauS, destination);
}
