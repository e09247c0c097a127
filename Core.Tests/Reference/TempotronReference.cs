namespace TimingBased.Tests.Reference;

/// <summary>
/// The Tempotron written for clarity from the formula, densely, in double precision: every input, every
/// output, every time step. Used only by tests, as the oracle for the event-driven implementation.
/// </summary>
internal sealed class TempotronReference
{
    public TempotronReference(int inFeatures, int outFeatures, int t, double[] weights, double tau = 15, double tauS = 3.75, double vThreshold = 1)
    {
        In = inFeatures;
        Out = outFeatures;
        T = t;
        W = weights;
        Tau = tau;
        TauS = tauS;
        VThreshold = vThreshold;
        var tPeak = tau * tauS * Math.Log(tau / tauS) / (tau - tauS);
        V0 = vThreshold / (Math.Exp(-tPeak / tau) - Math.Exp(-tPeak / tauS));
    }

    public int In { get; }
    public int Out { get; }
    public int T { get; }
    public double[] W { get; } // [out, in]
    public double Tau { get; }
    public double TauS { get; }
    public double VThreshold { get; }
    public double V0 { get; }

    public double Kernel(double u) => u < 0 ? 0 : Math.Exp(-u / Tau) - Math.Exp(-u / TauS);

    /// <summary>dK(t - s)/ds: the t = s term counts, as with PyTorch's clamp_min.</summary>
    public double KernelDerivativeInS(double u) => u < 0 ? 0 : (Math.Exp(-u / Tau) / Tau) - (Math.Exp(-u / TauS) / TauS);

    /// <summary>V[b, o, t] for spike times s[b, i].</summary>
    public double[] Voltage(double[] s, int batch)
    {
        var v = new double[batch * Out * T];
        for (var b = 0; b < batch; b++)
        {
            for (var o = 0; o < Out; o++)
            {
                for (var t = 0; t < T; t++)
                {
                    double sum = 0;
                    for (var i = 0; i < In; i++)
                    {
                        var si = s[(b * In) + i];
                        if (si >= 0 || (si == 0 && double.IsNegative(si)))
                        {
                            sum += W[(o * In) + i] * Kernel(t - si);
                        }
                    }

                    v[(((b * Out) + o) * T) + t] = V0 * sum;
                }
            }
        }

        return v;
    }

    /// <summary>Maximum over time and its first index, per (b, o).</summary>
    public (double[] Max, int[] ArgMax) MaxVoltage(double[] s, int batch)
    {
        var v = Voltage(s, batch);
        var max = new double[batch * Out];
        var arg = new int[batch * Out];
        for (var k = 0; k < batch * Out; k++)
        {
            max[k] = v[k * T];
            for (var t = 1; t < T; t++)
            {
                if (v[(k * T) + t] > max[k])
                {
                    max[k] = v[(k * T) + t];
                    arg[k] = t;
                }
            }
        }

        return (max, arg);
    }

    /// <summary>The bound the issue sets per output: 1e-6 (1 + V0 sum_i |W[o,i]|).</summary>
    public double Tolerance(int o)
    {
        double sum = 0;
        for (var i = 0; i < In; i++)
        {
            sum += Math.Abs(W[(o * In) + i]);
        }

        return 1e-6 * (1 + (V0 * sum));
    }
}
