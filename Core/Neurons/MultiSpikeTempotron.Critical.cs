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
    /// <param name="gradient">Empty, or exactly <c>afferents</c> doubles: receives <c>d theta*_k / d w[output, i]</c> (zeros when undefined).</param>
    /// <returns><c>theta*_k</c> and <c>t*_k</c>, or <see cref="CriticalThreshold.Undefined"/> for a trace that never rises above 0.</returns>
    /// <exception cref="ArgumentException">The pattern is invalid, or <paramref name="gradient"/> has another length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="output"/> or <paramref name="k"/> is out of range.</exception>
    public CriticalThreshold CriticalThreshold(SpikePattern pattern, int output, int k, Span<double> gradient)
    {
        CheckOutput(output);
        if (k < 1)
        {
            ThrowHelper.SizeTooSmall(nameof(k), k, 1);
        }

        if (!gradient.IsEmpty && gradient.Length != Afferents)
        {
            ThrowHelper.LengthMismatch(nameof(gradient), "[afferents]", Afferents, gradient.Length);
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
    /// (where <c>N = 1</c>) finds a threshold with <c>N &gt;= k</c>, then bisection on <c>N</c> closes the bracket to
    /// adjacent doubles; the spike born at <c>theta*_k</c> is the first that the trains on the two sides do not share,
    /// and <c>t*_k</c> is the maximum of the stretch of trace it was born on.
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

        while (true)
        {
            var mid = lo + (0.5 * (hi - lo));
            if (mid <= lo || mid >= hi)
            {
                break;
            }

            if (walk.Run(ordered, w, mid, [], [], k) >= k)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        var below = Records(ref _below, k);
        var above = Records(ref _above, k);
        walk.Run(ordered, w, lo, [], below, k);
        var n = walk.Run(ordered, w, hi, [], above, k);
        var tolerance = 1e-9 * Math.Max(1, Window);
        var born = 0;
        while (born < n && Math.Abs(below[born].Time - above[born].Time) <= tolerance)
        {
            born++;
        }

        return (new CriticalThreshold(true, lo, below[born].PeakTime), born);
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
        for (var j = 0; j < m; j++)
        {
            double e = 0, sum = 0;
            for (var r = 0; r < j; r++)
            {
                var ejr = Math.Exp(-(spikes[j].Time - spikes[r].Time) / Tau);
                e += ejr;
                sum += ejr * b[r];
            }

            b[j] = (1 + e + (rate * sum)) / spikes[j].Slope;
        }

        double eStar = 0, denominator = 0;
        for (var r = 0; r < m; r++)
        {
            var e = Math.Exp(-(critical.Time - spikes[r].Time) / Tau);
            eStar += e;
            denominator += e * b[r];
            lambda[r] = -rate * e;
        }

        denominator = 1 + eStar + (rate * denominator);
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

    /// <summary>Adds <c>scale P_i(t) = scale sum_{t_ik &lt; t} K(t - t_ik)</c> to <c>destination[i]</c> for every afferent.</summary>
    private void AddPsps(SpikePattern ordered, double t, double scale, Span<double> destination)
    {
        var times = ordered.Times;
        var afferents = ordered.Afferents;
        var factor = scale * V0;
        for (var k = 0; k < times.Length && times[k] < t; k++)
        {
            var u = t - times[k];
            destination[afferents[k]] += factor * (Math.Exp(-u / Tau) - Math.Exp(-u / TauS));
        }
    }
}
