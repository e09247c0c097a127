using System.Numerics;
using System.Runtime.InteropServices;
using TimingBased.Internal;
using TimingBased.Neurons.Kernels;

namespace TimingBased.Optimizers;

/// <summary>Adam with bias correction and optional L2 weight decay, as <c>torch.optim.Adam</c>.</summary>
/// <remarks>
/// Computes, per element, <c>g = grad + weightDecay p</c>, <c>m = beta1 m + (1 - beta1) g</c>,
/// <c>v = beta2 v + (1 - beta2) g²</c>, and with step count <c>k</c>:
/// <c>p -= (lr / (1 - beta1^k)) m / (sqrt(v) / sqrt(1 - beta2^k) + eps)</c>.
/// Reference: D. P. Kingma, J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
/// Allocates its moment buffers on the first step only. A step is all or nothing: if any new parameter or moment
/// would not be finite, it throws and changes nothing. A first moment that would be subnormal (below 1.18e-38 in
/// magnitude) is stored as 0, and so is a subnormal second moment beside a zero first moment (where we differ from
/// <c>torch.optim.Adam</c>, which keeps them): under zero gradients the first moment decays into that range after
/// about 600 steps, and x86 arithmetic on subnormal floats is many times slower (<c>Benchmarks/results/LOG.md</c>).
/// The update a flushed first moment would make is below <c>lr / (1 - beta1^k) 1.18e-38 / eps</c> in magnitude; a
/// subnormal second moment beside a non-zero first moment is kept, so a tiny <c>eps</c> gives PyTorch's step.
/// </remarks>
public sealed class Adam : IOptimizer, IChunkedOptimizer
{
    private float[]? _m;
    private float[]? _v;
    private int _step;
    private float _learningRate;

    /// <summary>Upper bounds on the moments' magnitudes: exact after a checked step, widened by <see cref="Bounds"/> after a proven one.</summary>
    private double _firstMomentBound, _secondMomentBound;

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

    /// <summary>Gets or sets the learning rate; finite and &gt;= 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is NaN, infinite or negative; the rate is unchanged.</exception>
    public float LearningRate
    {
        get => _learningRate;
        set => _learningRate = OptimizerChecks.LearningRate(value);
    }

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
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradient) =>
        StepCore(parameters, gradient, 1, UpdateBounds.Unknown, UpdateBounds.Unknown);

    /// <inheritdoc/>
    double IChunkedOptimizer.StepBounded(Span<float> parameters, ReadOnlySpan<float> gradient, int degreeOfParallelism,
        double maxAbsParameter, double maxAbsGradient) =>
        StepCore(parameters, gradient, degreeOfParallelism, maxAbsParameter, maxAbsGradient);

    /// <summary>Gets how many steps ran the checking pass (the others were proven finite by <see cref="UpdateBounds"/>); for tests and diagnostics.</summary>
    internal long CheckingPasses { get; private set; }

    /// <summary>
    /// Gets or sets the widest instruction-set path the step may take (default <see cref="KernelPaths.Best"/>); tests
    /// set each supported path in turn. Every path gives the same bits.
    /// </summary>
    internal KernelPath Path { get; set; } = KernelPaths.Best;

    /// <inheritdoc/>
    bool IChunkedOptimizer.TryBeginChunkedStep(int length, double maxAbsParameter, double maxAbsGradient, out double parameterBound)
    {
        var next = _step + 1;
        var (bound, firstBound, secondBound) = Bounds(maxAbsParameter, maxAbsGradient, next);
        if ((_m is not null && _m.Length != length) || !UpdateBounds.Proven(bound, firstBound, secondBound))
        {
            parameterBound = UpdateBounds.Unknown;
            return false;
        }

        _m ??= new float[length];
        _v ??= new float[length];
        _step = next;
        (_firstMomentBound, _secondMomentBound) = (firstBound, secondBound);
        parameterBound = bound;
        return true;
    }

    /// <inheritdoc/>
    void IChunkedOptimizer.CommitChunk(Span<float> parameters, ReadOnlySpan<float> gradient, int start) =>
        Update(parameters, gradient, _m.AsSpan(start, parameters.Length), _v.AsSpan(start, parameters.Length), _step, commit: true);

    /// <summary>
    /// The step: all or nothing. Unless the bounds prove every new parameter and moment finite, a first pass computes
    /// the update without writing, checks it and measures its maxima; then a pass with the same arithmetic writes it.
    /// Returns an upper bound on the new parameters' magnitudes.
    /// </summary>
    private double StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, int degreeOfParallelism, double maxAbsParameter, double maxAbsGradient)
    {
        OptimizerChecks.SameLength(parameters, gradient, _m?.Length);

        // Zero moments are the same state as none (the first step computes the same values from either).
        var m = _m ??= new float[parameters.Length];
        var v = _v ??= new float[parameters.Length];
        var next = _step + 1;
        var (parameterBound, firstBound, secondBound) = Bounds(maxAbsParameter, maxAbsGradient, next);
        if (!UpdateBounds.Proven(parameterBound, firstBound, secondBound))
        {
            CheckingPasses++;
            var check = Pass(parameters, gradient, m, v, next, degreeOfParallelism, commit: false);
            if (!check.Finite)
            {
                ThrowHelper.NonFiniteResult("The Adam update (a new weight or moment)");
            }

            (parameterBound, firstBound, secondBound) = (check.MaxParameter, check.MaxState, check.MaxSecondState);
        }

        _step = next;
        Pass(parameters, gradient, m, v, next, degreeOfParallelism, commit: true);
        (_firstMomentBound, _secondMomentBound) = (firstBound, secondBound);
        return parameterBound;
    }

    /// <summary>
    /// Upper bounds on the magnitudes of step <paramref name="step"/>'s new parameters and moments, from bounds on the
    /// parameters', the gradient's and the moments' own (<see cref="UpdateBounds"/>): <c>|g + wd p|</c>, the two moments,
    /// and <c>|p - stepSize m / (sqrt(v) / bias + eps)|</c>, whose denominator is at least <c>eps &gt; 0</c>.
    /// </summary>
    private (double Parameter, double First, double Second) Bounds(double maxAbsParameter, double maxAbsGradient, int step)
    {
        var (stepSize, _) = Scales(step);
        float b1 = Beta1, b2 = Beta2;
        var up = UpdateBounds.Up(maxAbsGradient + UpdateBounds.Up(WeightDecay * maxAbsParameter));
        var first = UpdateBounds.Up(UpdateBounds.Up(b1 * _firstMomentBound) + UpdateBounds.Up((1 - b1) * up));
        var square = UpdateBounds.Up(UpdateBounds.Up((1 - b2) * up) * up);
        var second = UpdateBounds.Up(UpdateBounds.Up(b2 * _secondMomentBound) + square);
        var scaled = UpdateBounds.Up(stepSize * first);
        var change = UpdateBounds.Up(scaled / Eps);
        var parameter = UpdateBounds.Up(maxAbsParameter + change);
        return UpdateBounds.Proven(up, square, scaled, change)
            ? (parameter, first, second)
            : (UpdateBounds.Unknown, UpdateBounds.Unknown, UpdateBounds.Unknown);
    }

    /// <summary>Step <paramref name="step"/>'s bias-corrected step size and <c>sqrt(1 - beta2^k)</c>, as float32.</summary>
    private (float StepSize, float Bias2Sqrt) Scales(int step)
    {
        var bias1 = 1.0 - Math.Pow(Beta1, step);
        var bias2 = 1.0 - Math.Pow(Beta2, step);
        return ((float)(LearningRate / bias1), (float)Math.Sqrt(bias2));
    }

    /// <summary>One pass of <see cref="Update"/> over the whole vector, on this thread or over <paramref name="degreeOfParallelism"/> chunks.</summary>
    private UpdatePass Pass(Span<float> parameters, ReadOnlySpan<float> gradient, float[] m, float[] v, int step, int degreeOfParallelism, bool commit) =>
        degreeOfParallelism <= 1
            ? Update(parameters, gradient, m, v, step, commit)
            : PassInChunks(parameters, gradient, m, v, step, degreeOfParallelism, commit);

    /// <summary>The threaded pass, its own method so that the one-thread path does not allocate the closure.</summary>
    private unsafe UpdatePass PassInChunks(Span<float> parameters, ReadOnlySpan<float> gradient, float[] m, float[] v, int step, int degreeOfParallelism, bool commit)
    {
        fixed (float* p = parameters)
        fixed (float* g = gradient)
        {
            var (pAt, gAt) = ((nint)p, (nint)g);
            return UpdateBounds.InChunks(parameters.Length, degreeOfParallelism, (start, length) =>
                Update(new Span<float>((float*)pAt + start, length), new ReadOnlySpan<float>((float*)gAt + start, length),
                    m.AsSpan(start, length), v.AsSpan(start, length), step, commit));
        }
    }

    /// <summary>
    /// Computes step <paramref name="step"/>; writes it only when <paramref name="commit"/>. Returns whether every new
    /// value is finite, and (when not committing) the largest magnitudes of the new parameters and moments.
    /// </summary>
    private UpdatePass Update(Span<float> parameters, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, int step, bool commit)
    {
        var (stepSize, bias2Sqrt) = Scales(step);
        float b1 = Beta1, b2 = Beta2, eps = Eps, wd = WeightDecay;
        var k = 0;
        var finite = true;
        float maxParameter = 0, maxFirst = 0, maxSecond = 0;
        if (KernelPaths.AllowsVectorT(Path))
        {
            // The same operations, in the same order, as the scalar loop below: identical results. A non-finite
            // value turns its lane of `check` into NaN (x * 0 is NaN only for infinities and NaN). Loads and stores
            // through references, not span slices (see Sgd).
            ref var pr = ref MemoryMarshal.GetReference(parameters);
            ref var gr = ref MemoryMarshal.GetReference(gradient);
            ref var mr = ref MemoryMarshal.GetReference(m);
            ref var vr = ref MemoryMarshal.GetReference(v);
            var b1V = new Vector<float>(b1);
            var b2V = new Vector<float>(b2);
            var c1V = new Vector<float>(1 - b1);
            var c2V = new Vector<float>(1 - b2);
            var epsV = new Vector<float>(eps);
            var wdV = new Vector<float>(wd);
            var stepV = new Vector<float>(stepSize);
            var biasV = new Vector<float>(bias2Sqrt);
            var check = Vector<float>.Zero;
            var maxP = Vector<float>.Zero;
            var maxM = Vector<float>.Zero;
            var maxV = Vector<float>.Zero;
            for (; k <= parameters.Length - Vector<float>.Count; k += Vector<float>.Count)
            {
                var at = (nuint)k;
                var p = Vector.LoadUnsafe(ref pr, at);
                var g = Vector.LoadUnsafe(ref gr, at) + (wdV * p);
                var mk = OptimizerChecks.FlushSubnormal((b1V * Vector.LoadUnsafe(ref mr, at)) + (c1V * g));
                var vk = OptimizerChecks.FlushSecondMoment((b2V * Vector.LoadUnsafe(ref vr, at)) + (c2V * g * g), mk);
                var updated = p - (stepV * mk / ((Vector.SquareRoot(vk) / biasV) + epsV));
                check += (mk * Vector<float>.Zero) + (vk * Vector<float>.Zero) + (updated * Vector<float>.Zero);
                if (commit)
                {
                    mk.StoreUnsafe(ref mr, at);
                    vk.StoreUnsafe(ref vr, at);
                    updated.StoreUnsafe(ref pr, at);
                }
                else
                {
                    maxP = UpdateBounds.MaxAbs(maxP, updated);
                    maxM = UpdateBounds.MaxAbs(maxM, mk);
                    maxV = UpdateBounds.MaxAbs(maxV, vk);
                }
            }

            finite = Vector.EqualsAll(check, Vector<float>.Zero);
            (maxParameter, maxFirst, maxSecond) = (UpdateBounds.Max(maxP), UpdateBounds.Max(maxM), UpdateBounds.Max(maxV));
        }

        for (; k < parameters.Length; k++)
        {
            var g = gradient[k] + (wd * parameters[k]);
            var mk = OptimizerChecks.FlushSubnormal((b1 * m[k]) + ((1 - b1) * g));
            var vk = OptimizerChecks.FlushSecondMoment((b2 * v[k]) + ((1 - b2) * g * g), mk);
            var updated = parameters[k] - (stepSize * mk / ((MathF.Sqrt(vk) / bias2Sqrt) + eps));
            finite &= float.IsFinite(mk) && float.IsFinite(vk) && float.IsFinite(updated);
            (maxParameter, maxFirst, maxSecond) = (Math.Max(maxParameter, Math.Abs(updated)), Math.Max(maxFirst, Math.Abs(mk)), Math.Max(maxSecond, Math.Abs(vk)));
            if (commit)
            {
                m[k] = mk;
                v[k] = vk;
                parameters[k] = updated;
            }
        }

        return new UpdatePass(finite, maxParameter, maxFirst, maxSecond);
    }

    /// <inheritdoc/>
    public void Reset()
    {
        _m = null;
        _v = null;
        _step = 0;
        (_firstMomentBound, _secondMomentBound) = (0, 0);
    }
}
