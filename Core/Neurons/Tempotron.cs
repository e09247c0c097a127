using System.Globalization;
using TimingBased.Internal;
using TimingBased.Neurons.Kernels;
using TimingBased.Serving;

namespace TimingBased.Neurons;

/// <summary>
/// The Tempotron, a spike-timing classifier neuron layer (Gütig &amp; Sompolinsky 2006), as SpikingJelly's
/// <c>spikingjelly.timing_based.neuron.Tempotron</c> defines it, evaluated event by event.
/// </summary>
/// <remarks>
/// <para>
/// Each of <see cref="OutFeatures"/> neurons sums double-exponential post-synaptic potentials of its
/// <see cref="InFeatures"/> inputs over the integer time steps <c>t = 0..T-1</c>:
/// <c>V[b,o,t] = V0 sum_i W[o,i] K(t - s[b,i])</c> over spiking inputs (<c>s &gt;= 0</c>), with the kernel
/// <c>K(u) = exp(-u/tau) - exp(-u/tauS)</c> for <c>u &gt;= 0</c> and 0 otherwise, and <c>V0</c> chosen so that
/// one PSP peaks at <see cref="VThreshold"/>.
/// </para>
/// <para>
/// Reference: R. Gütig, H. Sompolinsky, "The tempotron: a neuron that learns spike timing-based decisions",
/// Nature Neuroscience 9 (2006) 420–428.
/// </para>
/// <para>
/// The weights are stored input-major and padded (the layout the event-driven kernels want); the public view,
/// <see cref="CopyWeightsTo"/> and <see cref="SetWeights"/>, is <c>[out, in]</c> row-major like PyTorch's
/// <c>nn.Linear.weight</c> (SpikingJelly's key <c>model.summation_layer.weight</c>).
/// </para>
/// <para>
/// Thread safety: forward and backward calls only read the instance and use per-thread scratch, so any
/// number may run concurrently. Changing the weights (<see cref="SetWeights"/>, an optimizer step) while
/// another thread reads them is not safe: to serve a model while replacing it, publish frozen models in a
/// <see cref="ModelSlot{TModel}"/> (see <see cref="Freeze"/>).
/// </para>
/// </remarks>
public sealed partial class Tempotron : IFreezable
{
    /// <summary>SpikingJelly's default membrane time constant: 15.</summary>
    public const double DefaultTau = 15.0;

    /// <summary>SpikingJelly's default synaptic time constant: 15 / 4.</summary>
    public const double DefaultTauS = 15.0 / 4;

    /// <summary>SpikingJelly's default firing threshold: 1.</summary>
    public const double DefaultVThreshold = 1.0;

    /// <summary>
    /// The largest number of time steps <c>T</c>: <c>2^20</c>, the <see cref="MaxPlaneLength"/> rule for up to 16
    /// outputs (wider layers allow proportionally fewer steps). Every step is exact in float32.
    /// </summary>
    public const int MaxT = 1 << 20;

    /// <summary>
    /// The largest time plane, <c>T * ceil(out / 16) * 16 &lt;= 2^24</c> floats (64 MiB): one sample's working planes
    /// (about seven of them per thread) must be allocatable, and every index into them must fit an <c>int</c>.
    /// </summary>
    public const int MaxPlaneLength = 1 << 24;

    /// <summary>
    /// The largest weight storage, <c>in * ceil(out / 16) * 16 &lt;= 2^28</c> floats (1 GiB): the weights, a trainer's
    /// gradient and an optimizer's state are each this large, and every index into them must fit an <c>int</c>.
    /// </summary>
    public const int MaxWeightStorage = 1 << 28;

    /// <summary>Inputs per block of the layout transposes (see <see cref="LayoutTranspose"/>).</summary>
    private const int TransposeBlock = LayoutTranspose.Block;

    /// <summary>The smallest weight count whose transposes are split over threads.</summary>
    private const long ParallelTransposeMinimum = 1 << 18;

    private readonly AlignedFloats _weights; // [in, outStride], padding columns zero
    private readonly int _outStride;
    private readonly PspDecay _decay;
    private readonly float _vThresholdF;
    private int _maxDegreeOfParallelism = 1;
    private volatile bool _frozen;

    /// <summary>
    /// Creates a Tempotron with weights drawn like <c>nn.Linear</c>'s: uniform in <c>[-1/sqrt(in), 1/sqrt(in)]</c>
    /// from a generator seeded with <paramref name="seed"/>.
    /// </summary>
    /// <param name="inFeatures">The number of inputs; at least 1.</param>
    /// <param name="outFeatures">The number of output neurons; at least 1, with <c>in * ceil(out / 16) * 16 &lt;= </c><see cref="MaxWeightStorage"/>.</param>
    /// <param name="t">The number of time steps <c>T</c>; in <c>[1, </c><see cref="MaxT"/><c>]</c>, with <c>T * ceil(out / 16) * 16 &lt;= </c><see cref="MaxPlaneLength"/>.</param>
    /// <param name="tau">The membrane time constant; finite, &gt; 0 and different from <paramref name="tauS"/> (either may be the larger; <c>tau &lt; tauS</c> gives a negative <c>V0</c> and the same positive PSP, as in SpikingJelly).</param>
    /// <param name="tauS">The synaptic time constant; finite and &gt; 0.</param>
    /// <param name="vThreshold">The firing threshold; finite and &gt; 0.</param>
    /// <param name="seed">The seed of the weight initialisation.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A size is below 1 or breaks a size limit (<see cref="MaxT"/>, <see cref="MaxPlaneLength"/>, <see cref="MaxWeightStorage"/>),
    /// or a constant breaks its rule (including constants so extreme that <see cref="V0"/>, <see cref="TPeak"/> or a per-step
    /// decay would be zero or infinite).
    /// </exception>
    public Tempotron(int inFeatures, int outFeatures, int t, double tau = DefaultTau, double tauS = DefaultTauS,
        double vThreshold = DefaultVThreshold, int seed = 0)
        : this(inFeatures, outFeatures, t, tau, tauS, vThreshold)
    {
        var rng = new Random(seed);
        var bound = 1.0 / Math.Sqrt(inFeatures);
        var weights = _weights.Span;
        for (var o = 0; o < outFeatures; o++)
        {
            for (var i = 0; i < inFeatures; i++)
            {
                weights[(i * _outStride) + o] = (float)(((2.0 * rng.NextDouble()) - 1.0) * bound);
            }
        }
    }

    /// <summary>Creates a Tempotron with the given weights.</summary>
    /// <param name="inFeatures">The number of inputs; at least 1.</param>
    /// <param name="outFeatures">The number of output neurons; at least 1, with <c>in * ceil(out / 16) * 16 &lt;= </c><see cref="MaxWeightStorage"/>.</param>
    /// <param name="t">The number of time steps <c>T</c>; in <c>[1, </c><see cref="MaxT"/><c>]</c>, with <c>T * ceil(out / 16) * 16 &lt;= </c><see cref="MaxPlaneLength"/>.</param>
    /// <param name="weights">The weights, shape <c>[out, in]</c> row-major; finite.</param>
    /// <param name="tau">The membrane time constant; finite, &gt; 0 and different from <paramref name="tauS"/> (either may be the larger; <c>tau &lt; tauS</c> gives a negative <c>V0</c> and the same positive PSP, as in SpikingJelly).</param>
    /// <param name="tauS">The synaptic time constant; finite and &gt; 0.</param>
    /// <param name="vThreshold">The firing threshold; finite and &gt; 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A size is below 1 or breaks a size limit (<see cref="MaxT"/>, <see cref="MaxPlaneLength"/>, <see cref="MaxWeightStorage"/>),
    /// or a constant breaks its rule (including constants so extreme that <see cref="V0"/>, <see cref="TPeak"/> or a per-step
    /// decay would be zero or infinite).
    /// </exception>
    /// <exception cref="ArgumentException"><paramref name="weights"/> has the wrong length or a non-finite value.</exception>
    public Tempotron(int inFeatures, int outFeatures, int t, ReadOnlySpan<float> weights, double tau = DefaultTau,
        double tauS = DefaultTauS, double vThreshold = DefaultVThreshold)
        : this(inFeatures, outFeatures, t, tau, tauS, vThreshold) => SetWeights(weights);

    /// <summary>Creates a model whose weights are all zero, for a loader that writes them into <see cref="Parameters"/> itself.</summary>
    internal static Tempotron WithZeroWeights(int inFeatures, int outFeatures, int t, double tau, double tauS, double vThreshold) =>
        new(inFeatures, outFeatures, t, tau, tauS, vThreshold);

    private Tempotron(int inFeatures, int outFeatures, int t, double tau, double tauS, double vThreshold)
    {
        ValidateShape(inFeatures, outFeatures, t);
        ValidateConstants(tau, tauS, vThreshold);
        _outStride = RowOps.OutStride(outFeatures);
        var size = (int)((long)inFeatures * _outStride); // bounded by MaxWeightStorage in ValidateShape

        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        T = t;
        Tau = tau;
        TauS = tauS;
        VThreshold = vThreshold;
        TPeak = PeakTime(tau, tauS);
        V0 = Normalization(tau, tauS, vThreshold);
        _decay = PspDecay.Of(tau, tauS, V0);
        _vThresholdF = (float)vThreshold;
        _weights = new AlignedFloats(size);
    }

    /// <summary>Gets the number of inputs.</summary>
    public int InFeatures { get; }

    /// <summary>Gets the number of output neurons.</summary>
    public int OutFeatures { get; }

    /// <summary>Gets the number of time steps <c>T</c>; voltages are evaluated at <c>t = 0..T-1</c>.</summary>
    public int T { get; }

    /// <summary>Gets the membrane time constant <c>tau</c>.</summary>
    public double Tau { get; }

    /// <summary>Gets the synaptic time constant <c>tauS</c>.</summary>
    public double TauS { get; }

    /// <summary>Gets the firing threshold.</summary>
    public double VThreshold { get; }

    /// <summary>Gets the time of a PSP's peak, <c>tPeak = tau tauS ln(tau / tauS) / (tau - tauS)</c>.</summary>
    public double TPeak { get; }

    /// <summary>Gets the PSP normalisation <c>V0 = vThreshold / (exp(-tPeak/tau) - exp(-tPeak/tauS))</c>.</summary>
    public double V0 { get; }

    /// <summary>
    /// Gets or sets how many threads a batch may be split across (default 1). Results are bit-identical for
    /// every value; values above 1 use <see cref="Parallel"/>, which allocates a little per call.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism;
        set
        {
            if (value < 1)
            {
                ThrowHelper.SizeTooSmall(nameof(value), value, 1);
            }

            _maxDegreeOfParallelism = value;
        }
    }

    /// <summary>Gets whether the model is frozen (see <see cref="Freeze"/>).</summary>
    public bool IsFrozen => _frozen;

    /// <summary>
    /// Makes the model read-only for good: <see cref="SetWeights"/>, optimizer steps (<see cref="TempotronTrainer"/>,
    /// <see cref="ApplyGradient"/>) and <c>TempotronSafetensors.LoadInto</c> then throw <see cref="InvalidOperationException"/>
    /// and change nothing, so any number of threads may read it while it is published (<see cref="ModelSlot{TModel}"/>).
    /// Forward and backward calls work as before and give the same bits. Freezing a frozen model does nothing.
    /// </summary>
    public void Freeze() => _frozen = true;

    /// <summary>Gets the number of weights, <c>out * in</c>.</summary>
    public int WeightCount => InFeatures * OutFeatures;

    /// <summary>Gets the internal weight storage, input-major and padded; optimizers step over it.</summary>
    internal Span<float> Parameters => _weights.Span;

    /// <summary>Gets a count of the weight updates so far (<see cref="SetWeights"/> and optimizer steps): a tape records it to detect stale voltages.</summary>
    internal long WeightsVersion { get; private set; }

    /// <summary>
    /// Gets or sets the widest instruction-set path the kernels may take (default <see cref="KernelPaths.Best"/>).
    /// Tests set each supported path in turn, so every path runs in one process; results are identical on every path
    /// except the input gradient's dot products, whose vector path sums per lane.
    /// </summary>
    internal KernelPath Path { get; set; } = KernelPaths.Best;

    /// <summary>Gets the internal row stride (outputs rounded up to the vector width).</summary>
    internal int OutStride => _outStride;

    /// <summary>Returns the PSP peak time <c>tau tauS ln(tau/tauS) / (tau - tauS)</c>.</summary>
    /// <param name="tau">The membrane time constant.</param>
    /// <param name="tauS">The synaptic time constant.</param>
    /// <returns>The time at which <c>exp(-t/tau) - exp(-t/tauS)</c> is largest.</returns>
    public static double PeakTime(double tau, double tauS) => tau * tauS * Math.Log(tau / tauS) / (tau - tauS);

    /// <summary>Returns <c>V0 = vThreshold / (exp(-tPeak/tau) - exp(-tPeak/tauS))</c>.</summary>
    /// <param name="tau">The membrane time constant.</param>
    /// <param name="tauS">The synaptic time constant.</param>
    /// <param name="vThreshold">The firing threshold.</param>
    /// <returns>The factor that makes one PSP peak at the threshold.</returns>
    public static double Normalization(double tau, double tauS, double vThreshold)
    {
        var tPeak = PeakTime(tau, tauS);
        return vThreshold / (Math.Exp(-tPeak / tau) - Math.Exp(-tPeak / tauS));
    }

    /// <summary>Copies the weights into <paramref name="destination"/> as <c>[out, in]</c> row-major.</summary>
    /// <param name="destination">At least <c>out * in</c> floats.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void CopyWeightsTo(Span<float> destination)
    {
        SpanChecks.Destination(destination, nameof(destination), "[out, in]", WeightCount);

        ToPublicLayout(_weights.Span, destination);
    }

    /// <summary>Returns weight <c>W[o, i]</c>.</summary>
    /// <param name="o">The output index.</param>
    /// <param name="i">The input index.</param>
    /// <returns>The weight from input <paramref name="i"/> to output <paramref name="o"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An index is out of range.</exception>
    public float GetWeight(int o, int i)
    {
        if ((uint)o >= (uint)OutFeatures)
        {
            ThrowHelper.IntOutOfRange(nameof(o), o, 0, OutFeatures - 1);
        }

        if ((uint)i >= (uint)InFeatures)
        {
            ThrowHelper.IntOutOfRange(nameof(i), i, 0, InFeatures - 1);
        }

        return _weights.Span[(i * _outStride) + o];
    }

    /// <summary>Replaces all weights with <paramref name="weights"/>, shape <c>[out, in]</c> row-major.</summary>
    /// <param name="weights">Exactly <c>out * in</c> finite floats.</param>
    /// <exception cref="ArgumentException">The length is wrong or a weight is not finite; nothing is changed.</exception>
    /// <exception cref="InvalidOperationException">The model is frozen; nothing is changed.</exception>
    public void SetWeights(ReadOnlySpan<float> weights)
    {
        ThrowIfFrozen();
        ValidatePublicWeights(weights, nameof(weights));
        ToInternalLayout(weights, _weights.Span); // padding columns stay zero
        WeightsVersion++;
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> when the model is frozen: every writer of the weights calls it before it changes anything.</summary>
    internal void ThrowIfFrozen()
    {
        if (_frozen)
        {
            ThrowHelper.Frozen(nameof(Tempotron));
        }
    }

    /// <summary>Throws unless <paramref name="values"/> is <c>[out, in]</c> and finite, naming the first bad coordinate.</summary>
    private void ValidatePublicWeights(ReadOnlySpan<float> values, string paramName)
    {
        if (values.Length != WeightCount)
        {
            ThrowHelper.LengthMismatch(paramName, "[out, in]", WeightCount, values.Length);
        }

        var bad = SpanChecks.IndexOfNonFinite(values);
        if (bad >= 0)
        {
            ThrowHelper.NotFiniteAt(paramName, string.Create(CultureInfo.InvariantCulture,
                $"(out {bad / InFeatures}, in {bad % InFeatures})"), values[bad]);
        }
    }

    /// <summary>Copies a weight-shaped array from the internal layout into the public <c>[out, in]</c> one.</summary>
    /// <remarks>
    /// A transpose in blocks of <see cref="TransposeBlock"/> inputs: within a block the internal rows stay in L1 while
    /// every output's run of the public row is written in order (a plain column walk touches a new cache line per read).
    /// Large arrays are split over <see cref="MaxDegreeOfParallelism"/> threads by blocks (the copy is memory-bound and
    /// otherwise serial between the parallel phases of a backward).
    /// </remarks>
    private void ToPublicLayout(ReadOnlySpan<float> internalLayout, Span<float> publicLayout) =>
        Transpose(internalLayout, publicLayout, toPublic: true);

    /// <summary>Copies a weight-shaped array from the public <c>[out, in]</c> layout into the internal one, in the same blocks; padding columns, zero before, stay zero.</summary>
    private void ToInternalLayout(ReadOnlySpan<float> publicLayout, Span<float> internalLayout) =>
        Transpose(publicLayout, internalLayout, toPublic: false);

    private void Transpose(ReadOnlySpan<float> source, Span<float> destination, bool toPublic)
    {
        var blocks = (InFeatures + TransposeBlock - 1) / TransposeBlock;
        var degree = Math.Min(MaxDegreeOfParallelism, blocks);
        if (degree <= 1 || (long)InFeatures * OutFeatures < ParallelTransposeMinimum)
        {
            TransposeBlocks(source, destination, toPublic, 0, blocks);
        }
        else
        {
            TransposeInParallel(source, destination, toPublic, blocks, degree);
        }
    }

    /// <summary>The threaded transpose, its own method so that the one-thread path does not allocate the closure.</summary>
    private unsafe void TransposeInParallel(ReadOnlySpan<float> source, Span<float> destination, bool toPublic, int blocks, int degree)
    {
        fixed (float* from = source)
        fixed (float* to = destination)
        {
            var (fromAt, fromLength, toAt, toLength) = ((nint)from, source.Length, (nint)to, destination.Length);
            ParallelChunks.All(blocks, degree, alignment: 1, (first, count) =>
            {
                TransposeBlocks(new ReadOnlySpan<float>((void*)fromAt, fromLength), new Span<float>((void*)toAt, toLength), toPublic,
                    first, first + count);
                return true;
            });
        }
    }

    /// <summary>Transposes input blocks <paramref name="firstBlock"/> up to (excluding) <paramref name="endBlock"/>.</summary>
    private void TransposeBlocks(ReadOnlySpan<float> source, Span<float> destination, bool toPublic, int firstBlock, int endBlock)
    {
        var first = firstBlock * TransposeBlock;
        var end = (int)Math.Min(InFeatures, (long)endBlock * TransposeBlock);
        if (toPublic)
        {
            LayoutTranspose.ToPublic(Path, source, destination, InFeatures, OutFeatures, _outStride, first, end);
        }
        else
        {
            LayoutTranspose.ToInternal(Path, source, destination, InFeatures, OutFeatures, _outStride, first, end);
        }
    }
}
