using System.Diagnostics;

namespace TimingBased.Neurons;

/// <summary>
/// The exact model's kernel family: one segment of the trace between consecutive input events,
/// <c>f(s) = a exp(-s/tau) - b exp(-s/tauS)</c> for <c>s</c> in <c>[0, length]</c>, where <c>a</c> and <c>b</c> are the
/// two exponential sums at the segment's start (already multiplied by <c>V0</c>). Such an <c>f</c> has at most one
/// stationary point, <c>s* = tau tauS / (tau - tauS) ln(b tau / (a tauS))</c>, so its maximum is at an end point or at
/// <c>s*</c>, and it crosses a level at most once on each side of <c>s*</c>. See <c>docs/tempotron-exact.md</c>.
/// </summary>
internal readonly struct PspSegment(double tau, double tauS)
{
    private readonly double _tau = tau;
    private readonly double _tauS = tauS;
    private readonly double _stationaryScale = tau * tauS / (tau - tauS);

    /// <summary><c>1 / tau</c>.</summary>
    public double InverseTau { get; } = 1 / tau;

    /// <summary><c>1 / tauS</c>.</summary>
    public double InverseTauS { get; } = 1 / tauS;

    /// <summary>f(s).</summary>
    public double Value(double a, double b, double s) => (a * Math.Exp(-s / _tau)) - (b * Math.Exp(-s / _tauS));

    /// <summary>f'(s).</summary>
    public double Slope(double a, double b, double s) => (b / _tauS * Math.Exp(-s / _tauS)) - (a / _tau * Math.Exp(-s / _tau));

    /// <summary>The stationary point <c>s*</c> of f (any sign), or NaN when f has none (<c>a</c>, <c>b</c> of opposite signs or zero).</summary>
    public double Stationary(double a, double b)
    {
        var ratio = b * _tau / (a * _tauS);
        return ratio > 0 && double.IsFinite(ratio) ? _stationaryScale * Math.Log(ratio) : double.NaN;
    }

    /// <summary>
    /// The maximum of f over <c>[from, length]</c> and its earliest position, given <c>f(from)</c> and <c>f(length)</c>
    /// (which the caller usually has): the end points and, when the slope changes from rising to falling inside,
    /// the stationary point.
    /// </summary>
    public (double Max, double At) Max(double a, double b, double from, double length, double fFrom, double fLength) =>
        Max(a, b, from, length, fFrom, fLength, Slope(a, b, from), Slope(a, b, length));

    /// <summary>
    /// As the other overload, given also the slopes at both ends (the segment walk has them from the decays it already
    /// computed, so a segment without an interior peak costs no exponential here).
    /// </summary>
    public (double Max, double At) Max(double a, double b, double from, double length, double fFrom, double fLength, double slopeFrom, double slopeLength)
    {
        var best = fFrom;
        var at = from;

        // A slope of exactly 0 at the end still brackets a peak: over a segment longer than about 745 tau both decays
        // underflow, and the end slope reads 0 however the trace fell.
        if (slopeFrom > 0 && slopeLength <= 0)
        {
            var s = Stationary(a, b);
            if (s > from && s < length)
            {
                var f = Value(a, b, s);
                if (f > best)
                {
                    best = f;
                    at = s;
                }
            }
        }

        if (fLength > best)
        {
            best = fLength;
            at = length;
        }

        return (best, at);
    }

    /// <summary>
    /// The first <c>s</c> in <c>[0, hi]</c> with <c>f(s) &gt;= level</c>, given <c>f(0) &lt; level &lt;= f(hi)</c> with
    /// <c>hi</c> the segment's (earliest) maximum: f rises on <c>[lo, hi]</c>, where <c>lo</c> is a stationary minimum
    /// before <c>hi</c> or 0. Safeguarded Newton iteration on that bracket, to full double precision.
    /// </summary>
    public double FirstCrossing(double a, double b, double hi, double level)
    {
        Debug.Assert(Value(a, b, hi) >= level);
        var lo = 0.0;
        var s = Stationary(a, b);
        if (s > 0 && s < hi && Value(a, b, s) < level)
        {
            lo = s; // a minimum before the maximum: f rises from there
        }

        if (Value(a, b, hi) - level == 0)
        {
            // Tangential (or exactly at the end): hi is the first point at the level unless f reaches it earlier.
            return Bisect(a, b, level, lo, hi, 200);
        }

        var x = hi;
        for (var n = 0; n < 200; n++)
        {
            var g = Value(a, b, x) - level;
            if (g >= 0)
            {
                hi = x;
            }
            else
            {
                lo = x;
            }

            if (hi - lo <= 2 * double.Epsilon || hi - lo <= 1e-16 * hi)
            {
                break;
            }

            var next = x - (g / Slope(a, b, x));
            if (!(next > lo && next < hi))
            {
                next = 0.5 * (lo + hi); // Newton left the bracket: bisect
            }

            if (next == x)
            {
                break;
            }

            x = next;
        }

        // Newton has converged to within an ulp or two of the root, or the bracket has closed: step up from lo to the
        // first representable point at or above the level (f rises on the bracket).
        var below = Math.BitDecrement(hi);
        if (below > lo && Value(a, b, below) >= level)
        {
            x = lo;
            for (var n = 0; n < 8 && x < hi; n++)
            {
                x = Math.BitIncrement(x);
                if (Value(a, b, x) >= level)
                {
                    return x;
                }
            }

            // Still far (Newton stalled): bisect the bracket to the last bit.
            return Bisect(a, b, level, lo, hi, 1100);
        }

        return hi;
    }

    /// <summary>
    /// Halves <c>(lo, hi]</c> (<c>f(lo) &lt; level &lt;= f(hi)</c>) at most <paramref name="steps"/> times or until no
    /// double lies between them; returns the final <c>hi</c>, the first point found at the level.
    /// </summary>
    private double Bisect(double a, double b, double level, double lo, double hi, int steps)
    {
        for (var n = 0; n < steps; n++)
        {
            var mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi)
            {
                break;
            }

            if (Value(a, b, mid) >= level)
            {
                hi = mid;
            }
            else
            {
                lo = mid;
            }
        }

        return hi;
    }
}
