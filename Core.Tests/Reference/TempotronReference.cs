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

    /// <summary>The bound the issue sets per output: 1e-6 (1 + |V0| sum_i |W[o,i]|) (<c>V0 &lt; 0</c> when <c>tau &lt; tauS</c>).</summary>
    public double Tolerance(int o)
    {
        double sum = 0;
        for (var i = 0; i < In; i++)
        {
            sum += Math.Abs(W[(o * In) + i]);
        }

        return 1e-6 * (1 + (Math.Abs(V0) * sum));
    }

    /// <summary>SpikingJelly's soft arg-max of one trace: sum_t softmax(T v)_t t.</summary>
    public double SoftIndex(double[] v, int offset)
    {
        var max = double.NegativeInfinity;
        for (var t = 0; t < T; t++)
        {
            max = Math.Max(max, v[offset + t]);
        }

        double z = 0, soft = 0;
        for (var t = 0; t < T; t++)
        {
            var e = Math.Exp(T * (v[offset + t] - max));
            z += e;
            soft += e * t;
        }

        return soft / z;
    }

    /// <summary>sum up[b,o] vMax[b,o].</summary>
    public double MaxVoltageObjective(double[] s, int batch, double[] up)
    {
        var (max, _) = MaxVoltage(s, batch);
        double sum = 0;
        for (var k = 0; k < max.Length; k++)
        {
            sum += up[k] * max[k];
        }

        return sum;
    }

    /// <summary>sum up[b,o] sign[b,o] soft[b,o], the sign held fixed (it is detached in SpikingJelly).</summary>
    public double SoftSpikeObjective(double[] s, int batch, double[] up, double[] sign)
    {
        var v = Voltage(s, batch);
        double sum = 0;
        for (var k = 0; k < batch * Out; k++)
        {
            sum += up[k] * sign[k] * SoftIndex(v, k * T);
        }

        return sum;
    }

    /// <summary>sum up[b,o,t] V[b,o,t].</summary>
    public double VoltageObjective(double[] s, int batch, double[] up)
    {
        var v = Voltage(s, batch);
        double sum = 0;
        for (var k = 0; k < v.Length; k++)
        {
            sum += up[k] * v[k];
        }

        return sum;
    }

    /// <summary>SpikingJelly's mse_loss, or the paper cost (summed), of MaxVoltage.</summary>
    public double Loss(double[] s, int[] labels, bool paper)
    {
        var (max, _) = MaxVoltage(s, labels.Length);
        double sum = 0;
        for (var b = 0; b < labels.Length; b++)
        {
            for (var o = 0; o < Out; o++)
            {
                var m = max[(b * Out) + o];
                var wrong = (m >= VThreshold) != (labels[b] == o);
                if (wrong)
                {
                    sum += paper ? Math.Abs(m - VThreshold) : (m - VThreshold) * (m - VThreshold);
                }
            }
        }

        return paper ? sum : sum / labels.Length;
    }

    /// <summary>Central finite difference of f with respect to x[k], in double.</summary>
    public static double Central(double[] x, int k, double h, Func<double> f)
    {
        var keep = x[k];
        x[k] = keep + h;
        var plus = f();
        x[k] = keep - h;
        var minus = f();
        x[k] = keep;
        return (plus - minus) / (2 * h);
    }

    /// <summary>The dense weight gradient of sum_b,o gv[b,o] vMax[b,o] in double: gv V0 K(t* - s).</summary>
    public double[] DenseMaxVoltageWeightGradient(double[] s, int batch, double[] gv)
    {
        var (_, arg) = MaxVoltage(s, batch);
        var dW = new double[Out * In];
        for (var b = 0; b < batch; b++)
        {
            for (var o = 0; o < Out; o++)
            {
                for (var i = 0; i < In; i++)
                {
                    var si = s[(b * In) + i];
                    if (si >= 0)
                    {
                        dW[(o * In) + i] += gv[(b * Out) + o] * V0 * Kernel(arg[(b * Out) + o] - si);
                    }
                }
            }
        }

        return dW;
    }

    /// <summary>
    /// The dense input gradient of sum_b,o gv[b,o] vMax[b,o] in double: gv V0 W dK(t* - s)/ds, counting the
    /// t* = s term (PyTorch's clamp_min passes the gradient where t - s >= 0).
    /// </summary>
    public double[] DenseMaxVoltageInputGradient(double[] s, int batch, double[] gv)
    {
        var (_, arg) = MaxVoltage(s, batch);
        var dIn = new double[batch * In];
        for (var b = 0; b < batch; b++)
        {
            for (var i = 0; i < In; i++)
            {
                var si = s[(b * In) + i];
                if (si < 0 || si >= T)
                {
                    continue;
                }

                for (var o = 0; o < Out; o++)
                {
                    dIn[(b * In) + i] += gv[(b * Out) + o] * V0 * W[(o * In) + i] * KernelDerivativeInS(arg[(b * Out) + o] - si);
                }
            }
        }

        return dIn;
    }
}
