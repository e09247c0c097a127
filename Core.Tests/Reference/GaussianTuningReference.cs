namespace TimingBased.Tests.Reference;

/// <summary>
/// The encoder written for clarity from the paper's formulas, in double precision, with no attempt at speed.
/// Returns the pre-rounding value too, so tests can recognise near-ties where float32 and double may round apart.
/// </summary>
internal static class GaussianTuningReference
{
    public static double Mu(double xMin, double xMax, int j, int m) => xMin + ((2.0 * j) - 3.0) * (xMax - xMin) / (2.0 * (m - 2));

    public static double Sigma2(double xMin, double xMax, int m)
    {
        var w = (xMax - xMin) / (1.5 * (m - 2));
        return w * w;
    }

    /// <summary>Encodes [batch, n, samples] to [batch, n, samples, m]; <paramref name="preRound"/> gets maxT (1 - y).</summary>
    public static double[] Encode(float[] x, int batch, int n, int m, float[] xMin, float[] xMax, int maxSpikeTime, out double[] preRound)
    {
        var tMax = maxSpikeTime == 0 ? 100 : maxSpikeTime;
        var samples = x.Length / (batch * n);
        var result = new double[x.Length * m];
        preRound = new double[x.Length * m];
        for (var b = 0; b < batch; b++)
        {
            for (var c = 0; c < n; c++)
            {
                for (var s = 0; s < samples; s++)
                {
                    double value = x[((b * n) + c) * samples + s];
                    for (var j = 1; j <= m; j++)
                    {
                        var mu = Mu(xMin[c], xMax[c], j, m);
                        var sigma2 = Sigma2(xMin[c], xMax[c], m);
                        var y = Math.Exp(-(value - mu) * (value - mu) / (2 * sigma2));
                        var pre = tMax * (1 - y);
                        var t = Math.Round(pre, MidpointRounding.ToEven);
                        var k = ((((b * n) + c) * samples) + s) * m + j - 1;
                        preRound[k] = pre;
                        result[k] = t >= tMax ? -1 : t;
                    }
                }
            }
        }

        return result;
    }
}
