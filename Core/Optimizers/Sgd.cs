using System.Numerics;
using TimingBased.Internal;

namespace TimingBased.Optimizers;

/// <summary>Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay, as <c>torch.optim.SGD</c>.</summary>
/// <remarks>
/// Computes, per element, <c>g = grad + weightDecay p</c>; with momentum, <c>buf = g</c> on the first step and
/// <c>buf = momentum buf + g</c> afterwards, then <c>g = g + momentum buf</c> (Nesterov) or <c>g = buf</c>; finally
/// <c>p -= lr g</c>. The paper's tempotron rule with momentum 0.99 is this optimizer on
/// <see cref="Neurons.TempotronLoss.PaperCost"/>. Allocates its momentum buffer on the first step only.
/// </remarks>
public sealed class Sgd : IOptimizer
{
    private float[]? _momentumBuffer;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="lr">The learning rate; finite and &gt;= 0.</param>
    /// <param name="momentum">The momentum factor in <c>[0, 1)</c>.</param>
    /// <param name="weightDecay">The L2 penalty; finite and &gt;= 0.</param>
    /// <param name="nesterov">Whether to use Nesterov momentum (needs <paramref name="momentum"/> &gt; 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value breaks its rule.</exception>
    public Sgd(float lr, float momentum = 0f, float weightDecay = 0f, bool nesterov = false)
    {
        if (!(float.IsFinite(lr) && lr >= 0))
        {
            ThrowHelper.NotFiniteNonNegative(nameof(lr), lr);
        }

        if (!(momentum >= 0 && momentum < 1))
        {
            ThrowHelper.FloatOutOfRange(nameof(momentum), momentum, "0 <= momentum < 1");
        }

        if (!(float.IsFinite(weightDecay) && weightDecay >= 0))
        {
            ThrowHelper.NotFiniteNonNegative(nameof(weightDecay), weightDecay);
        }

        if (nesterov && momentum == 0)
        {
            ThrowHelper.FloatOutOfRange(nameof(momentum), momentum, "momentum > 0 when nesterov is true");
        }

        LearningRate = lr;
        Momentum = momentum;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
    }

    /// <summary>Gets or sets the learning rate.</summary>
    public float LearningRate { get; set; }

    /// <summary>Gets the momentum factor.</summary>
    public float Momentum { get; }

    /// <summary>Gets the L2 penalty.</summary>
    public float WeightDecay { get; }

    /// <summary>Gets whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradient)
    {
        OptimizerChecks.SameLength(parameters, gradient, _momentumBuffer?.Length);
        var lr = LearningRate;
        var wd = WeightDecay;
        var mu = Momentum;
        if (mu == 0)
        {
            var j = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var lrV = new Vector<float>(lr);
                var wdV = new Vector<float>(wd);
                for (; j <= parameters.Length - Vector<float>.Count; j += Vector<float>.Count)
                {
                    var p = new Vector<float>(parameters[j..]);
                    (p - (lrV * (new Vector<float>(gradient[j..]) + (wdV * p)))).CopyTo(parameters[j..]);
                }
            }

            for (; j < parameters.Length; j++)
            {
                parameters[j] -= lr * (gradient[j] + (wd * parameters[j]));
            }

            return;
        }

        var first = _momentumBuffer is null;
        var buf = _momentumBuffer ??= new float[parameters.Length];
        var k = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // The same operations, in the same order, as the scalar loop below: identical results.
            var lrV = new Vector<float>(lr);
            var wdV = new Vector<float>(wd);
            var muV = new Vector<float>(mu);
            for (; k <= parameters.Length - Vector<float>.Count; k += Vector<float>.Count)
            {
                var p = new Vector<float>(parameters[k..]);
                var g = new Vector<float>(gradient[k..]) + (wdV * p);
                var b = first ? g : (muV * new Vector<float>(buf, k)) + g;
                b.CopyTo(buf, k);
                (p - (lrV * (Nesterov ? g + (muV * b) : b))).CopyTo(parameters[k..]);
            }
        }

        for (; k < parameters.Length; k++)
        {
            var g = gradient[k] + (wd * parameters[k]);
            var b = first ? g : (mu * buf[k]) + g;
            buf[k] = b;
            parameters[k] -= lr * (Nesterov ? g + (mu * b) : b);
        }
    }

    /// <inheritdoc/>
    public void Reset() => _momentumBuffer = null;
}
