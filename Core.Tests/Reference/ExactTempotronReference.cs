namespace TimingBased.Tests.Reference;

/// <summary>
/// The tempotron of Gütig &amp; Sompolinsky (2006) in continuous time, written for clarity in double precision: one
/// output neuron, <c>V(t) = sum_i w_i sum_j K(t - t_ij)</c> with <c>K(u) = V0 (exp(-u/tau) - exp(-u/tauS))</c> for
/// <c>u &gt; 0</c> and <c>V0</c> making the peak of <c>K</c> equal to 1. The trace is evaluated segment by segment
/// between consecutive input times, each segment's sums recomputed from scratch from every earlier event (O(n^2));
/// the crossing is found by bisection. Used only by tests (and linked into the benchmarks as the W6 baseline).
/// </summary>
internal sealed class ExactTempotronReference
{
    public ExactTempotronReference(double[] weights, double window, double tau = 15, double tauS = 3.75, double threshold = 1)
    {
        W = weights;
        Window = window;
        Tau = tau;
        TauS = tauS;
        Threshold = threshold;
        var tPeak = tau * tauS * Math.Log(tau / tauS) / (tau - tauS);
        V0 = 1 / (Math.Exp(-tPeak / tau) - Math.Exp(-tPeak / tauS));
    }

    public double[] W { get; }
    public double Window { get; }
    public double Tau { get; }
    public double TauS { get; }
    public double Threshold { get; }
    public double V0 { get; }

    public double Kernel(double u) => u > 0 ? V0 * (Math.Exp(-u / Tau) - Math.Exp(-u / TauS)) : 0;

    /// <summary>V(t) from the events with time below <paramref name="cutoff"/> (the shunt), by the definition.</summary>
    public double Voltage(int[] afferents, double[] times, double t, double cutoff = double.PositiveInfinity)
    {
        double v = 0;
        for (var k = 0; k < times.Length; k++)
        {
            if (times[k] < cutoff)
            {
                v += W[afferents[k]] * Kernel(t - times[k]);
            }
        }

        return v;
    }

    /// <summary>Fired, crossing time (NaN if silent), vMax and its earliest time tMax over [0, Window].</summary>
    public (bool Fired, double Crossing, double VMax, double TMax) Evaluate(int[] afferents, double[] times)
    {
        var bounds = new List<double> { 0 };
        bounds.AddRange(times.Where(t => t > 0 && t < Window).Distinct().Order());
        bounds.Add(Window);
        double vMax = 0, tMax = 0; // V(0) = 0: K(0) = 0
        for (var k = 0; k + 1 < bounds.Count; k++)
        {
            double start = bounds[k], end = bounds[k + 1];
            if (end <= start)
            {
                continue;
            }

            var (a, b) = Sums(afferents, times, start, double.PositiveInfinity);
            var (m, at) = SegmentMax(a, b, end - start);
            if (m >= Threshold)
            {
                var crossing = start + Root(a, b, end - start, at);

                // Shunting: from the crossing on, only inputs before it count: one segment to the window's end.
                var (sa, sb) = Sums(afferents, times, crossing, crossing);
                var (sm, sat) = SegmentMax(sa, sb, Window - crossing);
                return (true, crossing, sm, crossing + sat);
            }

            if (m > vMax)
            {
                vMax = m;
                tMax = start + at;
            }
        }

        return (false, double.NaN, vMax, tMax);
    }

    /// <summary>V(r + s) = a exp(-s/tau) - b exp(-s/tauS) for s &gt;= 0 until the next input: the sums at r over events before the cutoff with time &lt;= r.</summary>
    private (double A, double B) Sums(int[] afferents, double[] times, double r, double cutoff)
    {
        double a = 0, b = 0;
        for (var k = 0; k < times.Length; k++)
        {
            if (times[k] <= r && times[k] < cutoff)
            {
                a += V0 * W[afferents[k]] * Math.Exp(-(r - times[k]) / Tau);
                b += V0 * W[afferents[k]] * Math.Exp(-(r - times[k]) / TauS);
            }
        }

        return (a, b);
    }

    private double F(double a, double b, double s) => (a * Math.Exp(-s / Tau)) - (b * Math.Exp(-s / TauS));

    /// <summary>The stationary point of F, or NaN: s* = tau tauS / (tau - tauS) ln(b tau / (a tauS)).</summary>
    private double Stationary(double a, double b)
    {
        var ratio = b * Tau / (a * TauS);
        return ratio > 0 ? Tau * TauS / (Tau - TauS) * Math.Log(ratio) : double.NaN;
    }

    /// <summary>The maximum of F over [0, length] and its earliest position: the end points and the stationary point.</summary>
    private (double Max, double At) SegmentMax(double a, double b, double length)
    {
        var best = F(a, b, 0);
        var at = 0.0;
        var s = Stationary(a, b);
        if (s > 0 && s < length && F(a, b, s) > best)
        {
            best = F(a, b, s);
            at = s;
        }

        if (F(a, b, length) > best)
        {
            best = F(a, b, length);
            at = length;
        }

        return (best, at);
    }

    /// <summary>The first s in [0, hi] with F(s) &gt;= threshold, F(hi) &gt;= threshold, by bisection on the rising part.</summary>
    private double Root(double a, double b, double length, double hi)
    {
        if (F(a, b, 0) >= Threshold)
        {
            return 0;
        }

        var s = Stationary(a, b);
        var lo = s > 0 && s < hi ? s : 0.0; // a minimum before the maximum: F rises from there
        if (F(a, b, lo) >= Threshold)
        {
            lo = 0;
        }

        for (var n = 0; n < 200 && hi - lo > 0; n++)
        {
            var mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi)
            {
                break;
            }

            if (F(a, b, mid) >= Threshold)
            {
                hi = mid;
            }
            else
            {
                lo = mid;
            }
        }

        _ = length;
        return hi;
    }

    /// <summary>The tempotron rule's update for one pattern: +/- lr sum_{t_ij &lt; tMax} K(tMax - t_ij) per afferent, or zeros when correct.</summary>
    public double[] RuleUpdate(int[] afferents, double[] times, bool target, double learningRate)
    {
        var (fired, _, _, tMax) = Evaluate(afferents, times);
        var dw = new double[W.Length];
        if (fired == target)
        {
            return dw;
        }

        var sign = target ? 1.0 : -1.0;
        for (var k = 0; k < times.Length; k++)
        {
            if (times[k] < tMax)
            {
                dw[afferents[k]] += sign * learningRate * Kernel(tMax - times[k]);
            }
        }

        return dw;
    }
}
