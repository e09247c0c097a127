using System.Numerics.Tensors;

namespace TimingBased.Benchmarks.Baselines;

/// <summary>
/// SpikingJelly's dense algorithm, written plainly: materialise <c>V0 K(t - s_i)</c> for every input and step,
/// multiply by the weights, and (for training) the dense gradient autograd would compute,
/// <c>dW[o, :] += g[o, t] K[t, :]</c> over every step. Uses TensorPrimitives where natural.
/// </summary>
internal sealed class DenseTempotron
{
    private readonly float[] _k;     // [T, in]
    private readonly float[] _u;     // [in]
    private readonly float[] _e;     // [in]
    private readonly float[] _mask;  // [in]
    private readonly float[] _v;     // [out, T]

    public DenseTempotron(int inFeatures, int outFeatures, int t, float[] weights)
    {
        In = inFeatures;
        Out = outFeatures;
        T = t;
        W = weights;
        V0 = (float)Neurons.Tempotron.Normalization(15, 3.75, 1);
        _k = new float[t * inFeatures];
        _u = new float[inFeatures];
        _e = new float[inFeatures];
        _mask = new float[inFeatures];
        _v = new float[outFeatures * t];
    }

    public int In { get; }
    public int Out { get; }
    public int T { get; }
    public float[] W { get; } // [out, in]
    public float V0 { get; }

    /// <summary>Fills the dense kernel matrix and the voltages of one sample; returns them as [out, T].</summary>
    public float[] VoltageOne(ReadOnlySpan<float> s)
    {
        for (var i = 0; i < In; i++)
        {
            _mask[i] = s[i] >= 0 ? V0 : 0f;
        }

        for (var t = 0; t < T; t++)
        {
            var k = _k.AsSpan(t * In, In);
            TensorPrimitives.Subtract(t, s, _u);           // t - s
            TensorPrimitives.Max(_u, 0f, _u);              // clamp_min(0)
            TensorPrimitives.Multiply(_u, -1f / 15f, _e);
            TensorPrimitives.Exp(_e, _e);
            TensorPrimitives.Multiply(_u, -1f / 3.75f, k);
            TensorPrimitives.Exp(k, k);
            TensorPrimitives.Subtract(_e, k, k);
            TensorPrimitives.Multiply(k, _mask, k);        // V0 * K * (s >= 0)
        }

        for (var o = 0; o < Out; o++)
        {
            var w = W.AsSpan(o * In, In);
            for (var t = 0; t < T; t++)
            {
                _v[(o * T) + t] = TensorPrimitives.Dot(w, _k.AsSpan(t * In, In));
            }
        }

        return _v;
    }

    /// <summary>Row <paramref name="t"/> of the kernel matrix of the last <see cref="VoltageOne"/>: <c>V0 K(t - s_i)</c> for every input.</summary>
    public ReadOnlySpan<float> Kernel(int t) => _k.AsSpan(t * In, In);

    /// <summary>Max voltage of a batch, shape [batch, out].</summary>
    public void MaxVoltage(ReadOnlySpan<float> s, int batch, Span<float> destination)
    {
        for (var b = 0; b < batch; b++)
        {
            var v = VoltageOne(s.Slice(b * In, In));
            for (var o = 0; o < Out; o++)
            {
                destination[(b * Out) + o] = TensorPrimitives.Max(v.AsSpan(o * T, T));
            }
        }
    }

    /// <summary>Forward, MSE loss and the dense weight gradient (as autograd), then an SGD step; returns the loss.</summary>
    public float TrainStep(ReadOnlySpan<float> s, ReadOnlySpan<int> labels, float[] gradient, float lr)
    {
        var batch = labels.Length;
        Array.Clear(gradient);
        var loss = 0f;
        Span<float> g = stackalloc float[Out];
        for (var b = 0; b < batch; b++)
        {
            var v = VoltageOne(s.Slice(b * In, In));
            for (var o = 0; o < Out; o++)
            {
                var row = v.AsSpan(o * T, T);
                var arg = TensorPrimitives.IndexOfMax(row);
                var vmax = row[arg];
                var fired = vmax >= 1f;
                var wrong = fired != (labels[b] == o);
                var diff = wrong ? vmax - 1f : 0f;
                loss += diff * diff;
                g[o] = 2f * diff / batch;
                // dL/dV[o, t] is g at t = argmax and 0 elsewhere; autograd multiplies the whole [T] row anyway.
                var gw = gradient.AsSpan(o * In, In);
                for (var t = 0; t < T; t++)
                {
                    TensorPrimitives.MultiplyAdd(_k.AsSpan(t * In, In), t == arg ? g[o] : 0f, gw, gw);
                }
            }
        }

        TensorPrimitives.MultiplyAdd(gradient, -lr, W, W);
        return loss / batch;
    }
}
