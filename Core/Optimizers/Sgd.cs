using System.Numerics.Tensors;
using TimingBased.Internal;

namespace TimingBased.Optimizers;

/// <summary>Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay, as <c>torch.optim.SGD</c>.</summary>
/// <remarks>
/// Computes, per element, <c>g = grad + weightDecay p</c>; with momentum, <c>buf = g</c> on the first step and
/// <c>buf = momentum buf + g</c> afterwards, then <c>g = g + momentum buf</c> (Nesterov) or <c>g = buf</c>; finally
/// <c>p -= lr g</c>, element-wise with <see cref="TensorPrimitives"/> (non-fused, so bit for bit the formula). The paper's tempotron rule with momentum 0.99 is this optimizer on
/// <see cref="Neurons.TempotronLoss.PaperCost"/>. Allocates its momentum buffer and scratch on the first step only. A step is all
/// or nothing: if any new parameter or momentum value would not be finite, it throws and changes nothing.
/// </remarks>
public sealed class Sgd : IOptimizer
{
    private float[]? _momentumBuffer;
    private float[] _decayed = [];
    private float[] _nextBuffer = [];
    private float[] _nesterov = [];

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
        var n = parameters.Length;
        var lr = LearningRate;
        var mu = Momentum;

        // Element-wise with TensorPrimitives' non-fused MultiplyAdd ((x * y) + z, two roundings): the same float
        // operations as the formula, so the result is the formula's bit for bit (tested). The update goes to scratch
        // first: a step is all or nothing.
        var g = OptimizerChecks.Scratch(ref _decayed, n);
        TensorPrimitives.MultiplyAdd(parameters, WeightDecay, gradient, g); // g + weightDecay p
        Span<float> step = g;
        Span<float> buffer = default;
        if (mu != 0)
        {
            buffer = OptimizerChecks.Scratch(ref _nextBuffer, n);
            if (_momentumBuffer is null)
            {
                g.CopyTo(buffer); // the first step copies the gradient
            }
            else
            {
                TensorPrimitives.MultiplyAdd(_momentumBuffer, mu, g, buffer); // momentum buf + g
            }

            step = buffer;
            if (Nesterov)
            {
                step = OptimizerChecks.Scratch(ref _nesterov, n);
                TensorPrimitives.MultiplyAdd(buffer, mu, g, step); // g + momentum buf
            }
        }

        var updated = g; // g is not read after this
        TensorPrimitives.MultiplyAdd(step, -lr, parameters, updated); // p - lr step
        OptimizerChecks.ThrowIfNotFinite(updated, buffer, "SGD");
        updated.CopyTo(parameters);
        if (mu != 0)
        {
            buffer.CopyTo(_momentumBuffer ??= new float[n]);
        }
    }

    /// <inheritdoc/>
    public void Reset() => _momentumBuffer = null;
}
