using System.Numerics.Tensors;

namespace TimingBased.Benchmarks.Baselines;

/// <summary>
/// SpikingJelly's dense algorithm for two stacked Tempotrons (W5's baseline), written plainly: each layer materialises
/// its <c>[T, in]</c> kernel matrix and multiplies it by the weights; the hidden layer's spike times are the arg-max of
/// its voltages (signed by whether it fired); the backward is what autograd computes over the dense tensors: the weight
/// gradients over every step, the kernel's derivative for the hidden spike times, and the straight-through soft arg-max
/// (<c>softmax(T V)</c>) over every step of every hidden neuron.
/// </summary>
internal sealed class DenseTwoLayer
{
    private const float Tau = 15f;
    private const float TauS = 3.75f;
    private readonly DenseTempotron _hidden;
    private readonly DenseTempotron _output;
    private readonly float[] _spikes;    // [H]
    private readonly float[] _dSpikes;   // [H]
    private readonly float[] _g;         // [T] one hidden neuron's dL/dV
    private readonly double[] _p;        // [T]

    public DenseTwoLayer(DenseTempotron hidden, DenseTempotron output)
    {
        _hidden = hidden;
        _output = output;
        _spikes = new float[hidden.Out];
        _dSpikes = new float[hidden.Out];
        _g = new float[hidden.T];
        _p = new double[hidden.T];
    }

    /// <summary>Forward through both layers, MSE on the output's v_max, and both weight gradients (accumulated over the batch); returns the loss.</summary>
    public float ForwardBackward(ReadOnlySpan<float> x, ReadOnlySpan<int> labels, float[] hiddenGradient, float[] outputGradient)
    {
        var batch = labels.Length;
        var h = _hidden.Out;
        var outs = _output.Out;
        var t = _hidden.T;
        Array.Clear(hiddenGradient);
        Array.Clear(outputGradient);
        var loss = 0f;
        for (var b = 0; b < batch; b++)
        {
            var sample = x.Slice(b * _hidden.In, _hidden.In);
            var v1 = _hidden.VoltageOne(sample); // [H, T]; the hidden layer's kernel matrix stays in _hidden
            for (var j = 0; j < h; j++)
            {
                var row = v1.AsSpan(j * t, t);
                var arg = TensorPrimitives.IndexOfMax(row);
                _spikes[j] = row[arg] >= 1f || arg == 0 ? arg : -arg;
            }

            var v2 = _output.VoltageOne(_spikes); // [O, T]; its kernel matrix K2 [T, H] stays in _output
            Array.Clear(_dSpikes);
            for (var o = 0; o < outs; o++)
            {
                var row = v2.AsSpan(o * t, t);
                var arg = TensorPrimitives.IndexOfMax(row);
                var vmax = row[arg];
                var wrong = (vmax >= 1f) != (labels[b] == o);
                var diff = wrong ? vmax - 1f : 0f;
                loss += diff * diff;
                var g = 2f * diff / batch;

                // dV2[o, t] = g at the arg-max, 0 elsewhere; autograd multiplies every step's row anyway.
                var gw = outputGradient.AsSpan(o * h, h);
                var w2 = _output.W.AsSpan(o * h, h);
                for (var step = 0; step < t; step++)
                {
                    var gt = step == arg ? g : 0f;
                    TensorPrimitives.MultiplyAdd(_output.Kernel(step), gt, gw, gw);

                    // dL/dK2[t, :] = sum_o dV2[o, t] W2[o, :], then through dK/ds at each hidden spike time.
                    for (var j = 0; j < h; j++)
                    {
                        _dSpikes[j] += gt * w2[j] * KernelSlope(step, _spikes[j], _output.V0);
                    }
                }
            }

            // The hidden layer's straight-through soft arg-max over every step, then its dense weight gradient.
            for (var j = 0; j < h; j++)
            {
                var row = v1.AsSpan(j * t, t);
                var max = TensorPrimitives.Max(row);
                double z = 0, soft = 0;
                for (var step = 0; step < t; step++)
                {
                    _p[step] = Math.Exp(t * (double)(row[step] - max));
                    z += _p[step];
                    soft += _p[step] * step;
                }

                soft /= z;
                var sign = max >= 1f ? 1.0 : -1.0;
                for (var step = 0; step < t; step++)
                {
                    _g[step] = (float)(_dSpikes[j] * sign * t * _p[step] / z * (step - soft));
                }

                var gw = hiddenGradient.AsSpan(j * _hidden.In, _hidden.In);
                for (var step = 0; step < t; step++)
                {
                    TensorPrimitives.MultiplyAdd(_hidden.Kernel(step), _g[step], gw, gw);
                }
            }
        }

        return loss / batch;
    }

    /// <summary><c>d(V0 K(t - s))/ds</c> for a spike at <paramref name="s"/>: 0 if silent or after <c>t</c>; at <c>t = s</c> the one-sided slope, as the clamp passes it.</summary>
    private static float KernelSlope(int t, float s, float v0)
    {
        var u = t - s;
        return s < 0 || u < 0 ? 0f : v0 * ((MathF.Exp(-u / Tau) / Tau) - (MathF.Exp(-u / TauS) / TauS));
    }
}
