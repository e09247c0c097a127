namespace TimingBased.Tests.Reference;

/// <summary>
/// The multi-spike tempotron written for clarity from its definition, in double precision: the voltage is summed
/// directly from every input event and every earlier output spike, spikes are found by scanning a fine time grid
/// (which contains every input time) with bisection, and <c>theta*_k</c> by search on <c>N(theta)</c>. Used only by
/// tests, as the oracle for <c>MultiSpikeTempotron</c>; it shares no code with it.
/// </summary>
internal sealed class MultiSpikeReference
{
    private const double Step = 0.05; // ms between grid points; every input time is a grid point too

    private readonly int[] _afferents;
    private readonly double[] _times;
    private readonly double[] _grid;

    public MultiSpikeReference(double[] weights, int[] afferents, double[] times, double window, double tau = 20, double tauS = 5)
    {
        W = weights;
        _afferents = afferents;
        _times = times;
        Window = window;
        Tau = tau;
        TauS = tauS;
        var tPeak = tau * tauS * Math.Log(tau / tauS) / (tau - tauS);
        V0 = 1 / (Math.Exp(-tPeak / tau) - Math.Exp(-tPeak / tauS));
        var points = new SortedSet<double>(times.Where(t => t <= window)) { 0, window };
        for (var t = 0.0; t < window; t += Step)
        {
            points.Add(t);
        }

        _grid = [.. points];
    }

    public double[] W { get; }

    public double Window { get; }

    public double Tau { get; }

    public double TauS { get; }

    public double V0 { get; }

    public double Kernel(double u) => u > 0 ? V0 * (Math.Exp(-u / Tau) - Math.Exp(-u / TauS)) : 0;

    private double KernelSlope(double u) => u > 0 ? V0 * ((Math.Exp(-u / TauS) / TauS) - (Math.Exp(-u / Tau) / Tau)) : 0;

    /// <summary>V(t) with the resets of <paramref name="spikes"/> (those before t).</summary>
    public double Voltage(double t, double theta, IReadOnlyList<double> spikes)
    {
        double v = 0;
        for (var k = 0; k < _times.Length; k++)
        {
            v += W[_afferents[k]] * Kernel(t - _times[k]);
        }

        foreach (var s in spikes)
        {
            if (s < t)
            {
                v -= theta * Math.Exp(-(t - s) / Tau);
            }
        }

        return v;
    }

    /// <summary>dV/dt from the right of t's inputs (none sits strictly inside a grid interval).</summary>
    private double Slope(double t, double theta, IReadOnlyList<double> spikes)
    {
        double v = 0;
        for (var k = 0; k < _times.Length; k++)
        {
            v += W[_afferents[k]] * KernelSlope(t - _times[k]);
        }

        foreach (var s in spikes)
        {
            if (s < t)
            {
                v += theta / Tau * Math.Exp(-(t - s) / Tau);
            }
        }

        return v;
    }

    /// <summary>The output spikes at threshold theta, in order, stopping after <paramref name="limit"/>.</summary>
    public List<double> Spikes(double theta, int limit = 1000)
    {
        var spikes = new List<double>();
        var from = 0.0;
        while (spikes.Count < limit)
        {
            var next = FirstCrossingAfter(from, theta, spikes);
            if (double.IsNaN(next))
            {
                break;
            }

            spikes.Add(next);
            from = next;
        }

        return spikes;
    }

    /// <summary>The first t in (from, T] with V(t) &gt;= theta, or NaN.</summary>
    private double FirstCrossingAfter(double from, double theta, List<double> spikes)
    {
        var left = from;
        foreach (var g in _grid)
        {
            if (g <= from)
            {
                continue;
            }

            // On (left, g] V is smooth: it reaches theta at g, or at an interior maximum where the slope turns.
            var hi = double.NaN;
            if (Voltage(g, theta, spikes) >= theta)
            {
                hi = g;
            }
            else if (Slope(NextUp(left), theta, spikes) > 0 && Slope(g, theta, spikes) < 0)
            {
                var peak = Bisect(left, g, t => Slope(t, theta, spikes) > 0); // last point rising
                if (Voltage(peak, theta, spikes) >= theta)
                {
                    hi = peak;
                }
            }

            if (!double.IsNaN(hi))
            {
                return Math.BitIncrement(Bisect(left, hi, t => Voltage(t, theta, spikes) < theta));
            }

            left = g;
        }

        return double.NaN;
    }

    private static double NextUp(double t) => t + 1e-9;

    /// <summary>The largest t in [lo, hi] (to the last bits) with pred(t) true, given pred(lo) and not pred(hi) (or hi itself).</summary>
    private static double Bisect(double lo, double hi, Func<double, bool> pred)
    {
        if (pred(hi))
        {
            return hi;
        }

        for (var n = 0; n < 200; n++)
        {
            var mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi)
            {
                break;
            }

            if (pred(mid))
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>The maximum of the unreset trace over the grid, refined at interior peaks.</summary>
    public double MaxUnreset()
    {
        var best = 0.0;
        var left = 0.0;
        foreach (var g in _grid)
        {
            best = Math.Max(best, Voltage(g, 1, []));
            if (g > left && Slope(NextUp(left), 1, []) > 0 && Slope(g, 1, []) < 0)
            {
                best = Math.Max(best, Voltage(Bisect(left, g, t => Slope(t, 1, []) > 0), 1, []));
            }

            left = g;
        }

        return best;
    }

    /// <summary>
    /// The correlation rule's eligibilities <c>e_i = integral_0^T V(t) P_i(t) dt</c> at threshold theta, by Simpson's rule
    /// on 400 panels between consecutive breakpoints (inputs, output spikes, 0 and T), where the integrand is smooth.
    /// </summary>
    public double[] Eligibility(double theta)
    {
        var spikes = Spikes(theta);
        var points = new SortedSet<double>(_times.Where(t => t < Window).Concat(spikes)) { 0, Window };
        var breaks = points.ToArray();
        var e = new double[W.Length];
        for (var q = 0; q + 1 < breaks.Length; q++)
        {
            const int panels = 400;
            var h = (breaks[q + 1] - breaks[q]) / panels;
            for (var p = 0; p <= panels; p++)
            {
                // Evaluate just inside the interval at its ends, so the resets and PSPs of its left end count.
                var t = p == 0 ? breaks[q] + (1e-9 * h) : p == panels ? breaks[q + 1] - (1e-9 * h) : breaks[q] + (p * h);
                var weight = (p == 0 || p == panels ? 1 : p % 2 == 1 ? 4 : 2) * h / 3;
                var v = Voltage(t, theta, spikes);
                for (var k = 0; k < _times.Length; k++)
                {
                    e[_afferents[k]] += weight * v * Kernel(t - _times[k]);
                }
            }
        }

        return e;
    }

    /// <summary>theta*_k by search on N(theta): a fine downward scan, then bisection to 1e-14 relative. NaN when undefined.</summary>
    public double Critical(int k)
    {
        var top = MaxUnreset();
        if (!(top > 0))
        {
            return double.NaN;
        }

        if (k == 1)
        {
            return top;
        }

        double hi = top, lo = top * 0.98;
        while (Spikes(lo, k).Count < k)
        {
            (hi, lo) = (lo, lo * 0.98);
        }

        while (hi - lo > 1e-14 * hi)
        {
            var mid = 0.5 * (lo + hi);
            if (Spikes(mid, k).Count >= k)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
