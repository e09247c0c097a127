using System.Numerics.Tensors;
using TimingBased.Internal;

namespace TimingBased.Optimizers;

/// <summary>Adam with bias correction and optional L2 weight decay, as <c>torch.optim.Adam</c>.</summary>
/// <remarks>
/// Computes, per element, <c>g = grad + weightDecay p</c>, <c>m = beta1 m + (1 - beta1) g</c>,
/// <c>v = beta2 v + (1 - beta2) g²</c>, and with step count <c>k</c>:
/// <c>p -= (lr / (1 - beta1^k)) m / (sqrt(v) / sqrt(1 - beta2^k) + eps)</c>.
/// Reference: D. P. Kingma, J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
/// Allocates its moment buffers on the first step only. A step is all or nothing: if any new parameter or moment
/// would not be finite, it throws and changes nothing.
/// </remarks>
public sealed class Adam : IOptimizer
{
    private float[]? _m;
    private float[]? _v;
    private float[] _g = [];
    private float[] _newM = [];
    private float[] _newV = [];
    private float[] _t = [];
    private int _step;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="lr">The learning rate; finite and &gt;= 0.</param>
    /// <param name="beta1">The first-moment decay in <c>[0, 1)</c>.</param>
    /// <param name="beta2">The second-moment decay in <c>[0, 1)</c>.</param>
    /// <param name="eps">The denominator guard; finite and &gt; 0.</param>
    /// <param name="weightDecay">The L2 penalty; finite and &gt;= 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value breaks its rule.</exception>
    public Adam(float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 0f)
    {
        if (!(float.IsFinite(lr) && lr >= 0))
        {
            ThrowHelper.NotFiniteNonNegative(nameof(lr), lr);
        }

        if (!(beta1 >= 0 && beta1 < 1))
        {
            ThrowHelper.FloatOutOfRange(nameof(beta1), beta1, "0 <= beta1 < 1");
        }

        if (!(beta2 >= 0 && beta2 < 1))
        {
            ThrowHelper.FloatOutOfRange(nameof(beta2), beta2, "0 <= beta2 < 1");
        }

        if (!(float.IsFinite(eps) && eps > 0))
        {
            ThrowHelper.NotFinitePositive(nameof(eps), eps);
        }

        if (!(float.IsFinite(weightDecay) && weightDecay >= 0))
        {
            ThrowHelper.NotFiniteNonNegative(nameof(weightDecay), weightDecay);
        }

        LearningRate = lr;
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
    }

    /// <summary>Gets or sets the learning rate.</summary>
    public float LearningRate { get; set; }

    /// <summary>Gets the first-moment decay.</summary>
    public float Beta1 { get; }

    /// <summary>Gets the second-moment decay.</summary>
    public float Beta2 { get; }

    /// <summary>Gets the denominator guard.</summary>
    public float Eps { get; }

    /// <summary>Gets the L2 penalty.</summary>
    public float WeightDecay { get; }

    /// <summary>Gets the number of steps taken.</summary>
    public int StepCount => _step;

    /// <inheritdoc/>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradient)
    {
        OptimizerChecks.SameLength(parameters, gradient, _m?.Length);
        var n = parameters.Length;
        var m = _m ?? new float[n]; // zero moments are the same state as none
        var v = _v ?? new float[n];
        var step = _step + 1;
        var stepSize = (float)(LearningRate / (1.0 - Math.Pow(Beta1, step)));
        var bias2Sqrt = (float)Math.Sqrt(1.0 - Math.Pow(Beta2, step));

        // Element-wise with TensorPrimitives, in the formula's order of float operations (non-fused), so the result
        // is the formula's bit for bit (tested); the new moments and weights go to scratch first: all or nothing.
        var g = OptimizerChecks.Scratch(ref _g, n);
        var newM = OptimizerChecks.Scratch(ref _newM, n);
        var newV = OptimizerChecks.Scratch(ref _newV, n);
        var t = OptimizerChecks.Scratch(ref _t, n);
        TensorPrimitives.MultiplyAdd(parameters, WeightDecay, gradient, g); // g + weightDecay p
        TensorPrimitives.Multiply(g, 1 - Beta1, newM);
        TensorPrimitives.MultiplyAdd(m, Beta1, newM, newM); // beta1 m + (1 - beta1) g
        TensorPrimitives.Multiply(g, 1 - Beta2, t);
        TensorPrimitives.Multiply(t, g, t);
        TensorPrimitives.MultiplyAdd(v, Beta2, t, newV); // beta2 v + (1 - beta2) g g
        TensorPrimitives.Sqrt(newV, t);
        TensorPrimitives.Divide(t, bias2Sqrt, t);
        TensorPrimitives.Add(t, Eps, t); // sqrt(v) / sqrt(1 - beta2^k) + eps
        TensorPrimitives.Multiply(newM, stepSize, g);
        TensorPrimitives.Divide(g, t, g);
        TensorPrimitives.Subtract(parameters, g, g); // p - stepSize m / (...)
        OptimizerChecks.ThrowIfNotFinite(g, newM, "Adam");
        OptimizerChecks.ThrowIfNotFinite(default, newV, "Adam");
        g.CopyTo(parameters);
        newM.CopyTo(_m = m);
        newV.CopyTo(_v = v);
        _step = step;
    }

    /// <inheritdoc/>
    public void Reset()
    {
        _m = null;
        _v = null;
        _step = 0;
    }
}
