using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TimingBased.Internal;
using TimingBased.Neurons.Kernels;

namespace TimingBased.Optimizers;

/// <summary>Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay, as <c>torch.optim.SGD</c>.</summary>
/// <remarks>
/// Computes, per element, <c>g = grad + weightDecay p</c>; with momentum, <c>buf = g</c> on the first step and
/// <c>buf = momentum buf + g</c> afterwards, then <c>g = g + momentum buf</c> (Nesterov) or <c>g = buf</c>; finally
/// <c>p -= lr g</c>. The paper's tempotron rule with momentum 0.99 is this optimizer on
/// <see cref="Neurons.TempotronLoss.PaperCost"/>. Allocates its momentum buffer on the first step only. A step is all
/// or nothing: if any new parameter or momentum value would not be finite, it throws and changes nothing. A momentum
/// value that would be subnormal (below 1.18e-38 in magnitude) is stored as 0, as in <see cref="Adam"/> (x86 arithmetic
/// on subnormal floats is about a hundred times slower; <c>torch.optim.SGD</c> keeps them).
/// </remarks>
public sealed class Sgd : IOptimizer, IChunkedOptimizer
{
    private float[]? _momentumBuffer;
    private float _learningRate;

    /// <summary>An upper bound on the momentum buffer's magnitudes: exact after a checked step, widened by <see cref="Bounds"/> after a proven one.</summary>
    private double _momentumBound;

    /// <summary>Whether the step begun by <see cref="IChunkedOptimizer.TryBeginChunkedStep"/> is the first (the buffer is then g).</summary>
    private bool _chunkedFirst;

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

    /// <summary>Gets or sets the learning rate; finite and &gt;= 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is NaN, infinite or negative; the rate is unchanged.</exception>
    public float LearningRate
    {
        get => _learningRate;
        set => _learningRate = OptimizerChecks.LearningRate(value);
    }

    /// <summary>Gets the momentum factor.</summary>
    public float Momentum { get; }

    /// <summary>Gets the L2 penalty.</summary>
    public float WeightDecay { get; }

    /// <summary>Gets whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

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
        var first = _momentumBuffer is null;
        var (bound, momentumBound) = Bounds(maxAbsParameter, maxAbsGradient, first);
        if ((!first && _momentumBuffer!.Length != length) || !UpdateBounds.Proven(bound, momentumBound))
        {
            parameterBound = UpdateBounds.Unknown;
            return false;
        }

        if (Momentum != 0 && first)
        {
            _momentumBuffer = new float[length];
        }

        _chunkedFirst = first;
        _momentumBound = Momentum == 0 ? 0 : momentumBound;
        parameterBound = bound;
        return true;
    }

    /// <inheritdoc/>
    void IChunkedOptimizer.CommitChunk(Span<float> parameters, ReadOnlySpan<float> gradient, int start) =>
        Update(parameters, gradient, _momentumBuffer is null ? default : _momentumBuffer.AsSpan(start, parameters.Length), _chunkedFirst, commit: true);

    /// <summary>
    /// The step: all or nothing. Unless the bounds prove every new parameter and momentum value finite, a first pass
    /// computes the update without writing, checks it and measures its maxima; then a pass with the same arithmetic
    /// writes it. Returns an upper bound on the new parameters' magnitudes.
    /// </summary>
    private double StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, int degreeOfParallelism, double maxAbsParameter, double maxAbsGradient)
    {
        OptimizerChecks.SameLength(parameters, gradient, _momentumBuffer?.Length);
        var first = _momentumBuffer is null;
        var (parameterBound, momentumBound) = Bounds(maxAbsParameter, maxAbsGradient, first);
        if (!UpdateBounds.Proven(parameterBound, momentumBound))
        {
            CheckingPasses++;
            var check = Pass(parameters, gradient, degreeOfParallelism, first, commit: false);
            if (!check.Finite)
            {
                ThrowHelper.NonFiniteResult("The SGD update (a new weight or momentum value)");
            }

            (parameterBound, momentumBound) = (check.MaxParameter, check.MaxState);
        }

        if (Momentum != 0 && first)
        {
            _momentumBuffer = new float[parameters.Length];
        }

        Pass(parameters, gradient, degreeOfParallelism, first, commit: true);
        _momentumBound = Momentum == 0 ? 0 : momentumBound;
        return parameterBound;
    }

    /// <summary>
    /// Upper bounds on the new parameters' and momentum values' magnitudes, from bounds on the parameters' and the
    /// gradient's and the momentum buffer's own (<see cref="UpdateBounds"/>): <c>|g + wd p|</c>, then
    /// <c>|mu buf + g|</c>, the Nesterov step, and <c>|p - lr step|</c>, each widened for its roundings.
    /// </summary>
    private (double Parameter, double Momentum) Bounds(double maxAbsParameter, double maxAbsGradient, bool first)
    {
        var up = UpdateBounds.Up(maxAbsGradient + UpdateBounds.Up(WeightDecay * maxAbsParameter));
        var step = up;
        var momentum = 0.0;
        if (Momentum != 0)
        {
            momentum = first ? up : UpdateBounds.Up(UpdateBounds.Up(Momentum * _momentumBound) + up);
            step = Nesterov ? UpdateBounds.Up(up + UpdateBounds.Up(Momentum * momentum)) : momentum;
        }

        var parameter = UpdateBounds.Up(maxAbsParameter + UpdateBounds.Up(Math.Abs(LearningRate) * step));
        return UpdateBounds.Proven(up, step) ? (parameter, momentum) : (UpdateBounds.Unknown, UpdateBounds.Unknown);
    }

    /// <summary>One pass of <see cref="Update"/> over the whole vector, on this thread or over <paramref name="degreeOfParallelism"/> chunks.</summary>
    private UpdatePass Pass(Span<float> parameters, ReadOnlySpan<float> gradient, int degreeOfParallelism, bool first, bool commit) =>
        degreeOfParallelism <= 1
            ? Update(parameters, gradient, _momentumBuffer, first, commit)
            : PassInChunks(parameters, gradient, degreeOfParallelism, first, commit);

    /// <summary>The threaded pass, its own method so that the one-thread path does not allocate the closure.</summary>
    private unsafe UpdatePass PassInChunks(Span<float> parameters, ReadOnlySpan<float> gradient, int degreeOfParallelism, bool first, bool commit)
    {
        fixed (float* p = parameters)
        fixed (float* g = gradient)
        {
            var (pAt, gAt) = ((nint)p, (nint)g);
            return UpdateBounds.InChunks(parameters.Length, degreeOfParallelism, (start, length) =>
                Update(new Span<float>((float*)pAt + start, length), new ReadOnlySpan<float>((float*)gAt + start, length),
                    _momentumBuffer is null ? default : _momentumBuffer.AsSpan(start, length), first, commit)); // the buffer is null until the first commit
        }
    }

    /// <summary>
    /// Computes the update; writes it only when <paramref name="commit"/>. Returns whether every new parameter and
    /// momentum value is finite, and (when not committing) their largest magnitudes. <paramref name="buf"/> is read
    /// only when not <paramref name="first"/>.
    /// </summary>
    private UpdatePass Update(Span<float> parameters, ReadOnlySpan<float> gradient, Span<float> buf, bool first, bool commit)
    {
        if (commit && Momentum == 0 && WeightDecay == 0)
        {
            CommitPlain(Path, parameters, gradient, LearningRate);
            return new UpdatePass(true, 0, 0, 0);
        }

        var k = 0;
        var head = KernelPaths.AllowsVectorT(Path) ? UpdateVector(parameters, gradient, buf, first, commit, out k) : new UpdatePass(true, 0, 0, 0);
        return UpdateScalar(parameters, gradient, buf, first, commit, k, head);
    }

    /// <summary>
    /// <see cref="Update"/> in <see cref="Vector{T}"/>s over the whole vectors of the parameters; <paramref name="end"/>
    /// receives where it stopped. The same operations, in the same order, as <see cref="UpdateScalar"/>: identical
    /// results. A non-finite value turns its lane of <c>check</c> into NaN (<c>x * 0</c> is NaN only for infinities and
    /// NaN). Loads and stores through references: slicing the spans at every step is several times
    /// slower (W3's optimizer step; LOG.md). The maxima cost nothing measurable in this memory-bound loop.
    /// </summary>
    private UpdatePass UpdateVector(Span<float> parameters, ReadOnlySpan<float> gradient, Span<float> buf, bool first, bool commit, out int end)
    {
        var mu = Momentum;
        var nesterov = Nesterov;
        ref var pr = ref MemoryMarshal.GetReference(parameters);
        ref var gr = ref MemoryMarshal.GetReference(gradient);
        ref var br = ref MemoryMarshal.GetReference(buf);
        var lrV = new Vector<float>(LearningRate);
        var wdV = new Vector<float>(WeightDecay);
        var muV = new Vector<float>(mu);
        var check = Vector<float>.Zero;
        var maxP = Vector<float>.Zero;
        var maxB = Vector<float>.Zero;
        var k = 0;
        for (; k <= parameters.Length - Vector<float>.Count; k += Vector<float>.Count)
        {
            var at = (nuint)k;
            var p = Vector.LoadUnsafe(ref pr, at);
            var g = Vector.LoadUnsafe(ref gr, at) + (wdV * p);
            Vector<float> step;
            if (mu == 0)
            {
                step = g;
            }
            else
            {
                var b = OptimizerChecks.FlushSubnormal(first ? g : (muV * Vector.LoadUnsafe(ref br, at)) + g);
                check += b * Vector<float>.Zero;
                if (commit)
                {
                    b.StoreUnsafe(ref br, at);
                }
                else
                {
                    maxB = UpdateBounds.MaxAbs(maxB, b);
                }

                step = nesterov ? g + (muV * b) : b;
            }

            var updated = p - (lrV * step);
            check += updated * Vector<float>.Zero;
            if (commit)
            {
                updated.StoreUnsafe(ref pr, at);
            }
            else
            {
                maxP = UpdateBounds.MaxAbs(maxP, updated);
            }
        }

        end = k;
        return new UpdatePass(Vector.EqualsAll(check, Vector<float>.Zero), UpdateBounds.Max(maxP), UpdateBounds.Max(maxB), 0);
    }

    /// <summary>
    /// <see cref="Update"/> element by element from <paramref name="start"/> on (every element on the scalar path, the
    /// tail after <see cref="UpdateVector"/>), folding its checks and maxima into those of <paramref name="head"/>.
    /// </summary>
    private UpdatePass UpdateScalar(Span<float> parameters, ReadOnlySpan<float> gradient, Span<float> buf, bool first, bool commit, int start, UpdatePass head)
    {
        var lr = LearningRate;
        var wd = WeightDecay;
        var mu = Momentum;
        var nesterov = Nesterov;
        var finite = head.Finite;
        var maxParameter = head.MaxParameter;
        var maxMomentum = head.MaxState;
        for (var k = start; k < parameters.Length; k++)
        {
            var g = gradient[k] + (wd * parameters[k]);
            var step = g;
            if (mu != 0)
            {
                var b = OptimizerChecks.FlushSubnormal(first ? g : (mu * buf[k]) + g);
                finite &= float.IsFinite(b);
                maxMomentum = Math.Max(maxMomentum, Math.Abs(b));
                if (commit)
                {
                    buf[k] = b;
                }

                step = nesterov ? g + (mu * b) : b;
            }

            var updated = parameters[k] - (lr * step);
            finite &= float.IsFinite(updated);
            maxParameter = Math.Max(maxParameter, Math.Abs(updated));
            if (commit)
            {
                parameters[k] = updated;
            }
        }

        return new UpdatePass(finite, maxParameter, maxMomentum, 0);
    }

    /// <summary>
    /// The writing pass of plain SGD (no momentum, no weight decay): <c>p -= lr g</c>, with nothing to check or measure,
    /// at the widest vectors. The same bits as <see cref="Update"/>, which computes <c>p - lr (g + 0 p)</c>: adding
    /// <c>0 p</c> changes <c>g</c> only from <c>-0</c> to <c>+0</c>, and <c>p - lr (±0)</c> is the same for every finite
    /// <c>p</c>, <c>±0</c> included (tested). The pass is bound by its instructions, not by memory, in the training step
    /// (phase 2's gradient block is in L1), which is why it has its own pass (W3; LOG.md).
    /// <para>
    /// On AVX-512 a lane whose gradient is +0 is not written (a masked store): <c>p - lr (+0)</c> is <c>p</c> for every
    /// finite <c>p</c> (<c>-0</c> included) when <c>lr</c> is finite with its sign bit clear, so only the cache traffic
    /// changes. A weight row no spike reached (56 % of W3's rows) then stays clean in every core's cache: at two threads
    /// the other core's next forward need not fetch it again. The benchmark that justifies it: <c>VariantBenchmarks</c>,
    /// <see cref="KernelVariants.MaskedCommit"/>.
    /// </para>
    /// </summary>
    private static void CommitPlain(KernelPath path, Span<float> parameters, ReadOnlySpan<float> gradient, float lr)
    {
        // Each width in a method of its own, chosen here: a runtime path test inside the loop's method made W3 at two
        // threads slower (TrainingBenchmarks; LOG.md, 2026-12-06).
        var k = KernelVariants.MaskedCommit && KernelPaths.Allows(path, KernelPath.Avx512) ? CommitPlainAvx512(parameters, gradient, lr)
            : KernelPaths.AllowsVectorT(path) ? CommitPlainVector(parameters, gradient, lr)
            : 0;
        for (; k < parameters.Length; k++)
        {
            parameters[k] -= lr * gradient[k];
        }
    }

    /// <summary><see cref="CommitPlain"/> in 512-bit vectors with the masked store; returns where it stopped.</summary>
    private static unsafe int CommitPlainAvx512(Span<float> parameters, ReadOnlySpan<float> gradient, float lr)
    {
        ref var gr = ref MemoryMarshal.GetReference(gradient);
        var k = 0;

        // Lanes with g = +0 are left unwritten only where that gives the same bits; otherwise every lane is written.
        var everyLane = float.IsFinite(lr) && BitConverter.SingleToInt32Bits(lr) >= 0 ? Vector512<uint>.Zero : Vector512<uint>.AllBitsSet;
        var lrV = Vector512.Create(lr);
        fixed (float* p = parameters)
        {
            for (; k <= parameters.Length - Vector512<float>.Count; k += Vector512<float>.Count)
            {
                var g = Vector512.LoadUnsafe(ref gr, (nuint)k);
                var written = ~Vector512.Equals(g.AsUInt32(), Vector512<uint>.Zero) | everyLane;
                Avx512F.MaskStore(p + k, written.AsSingle(), Vector512.Load(p + k) - (lrV * g));
            }
        }

        return k;
    }

    /// <summary><see cref="CommitPlain"/> in <see cref="Vector{T}"/>s, every lane written; returns where it stopped.</summary>
    private static int CommitPlainVector(Span<float> parameters, ReadOnlySpan<float> gradient, float lr)
    {
        ref var pr = ref MemoryMarshal.GetReference(parameters);
        ref var gr = ref MemoryMarshal.GetReference(gradient);
        var k = 0;
        var lrV = new Vector<float>(lr);
        for (; k <= parameters.Length - Vector<float>.Count; k += Vector<float>.Count)
        {
            var at = (nuint)k;
            (Vector.LoadUnsafe(ref pr, at) - (lrV * Vector.LoadUnsafe(ref gr, at))).StoreUnsafe(ref pr, at);
        }

        return k;
    }

    /// <inheritdoc/>
    public void Reset()
    {
        _momentumBuffer = null;
        _momentumBound = 0;
    }
}
