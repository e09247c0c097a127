using TimingBased.Serving;

namespace TimingBased.Neurons;

/// <summary>What one output neuron of an <see cref="ExactTempotron"/> did on one pattern.</summary>
/// <param name="Fired">Whether <c>V(t) &gt;= theta</c> for some <c>t</c> in <c>[0, T]</c>.</param>
/// <param name="CrossingTime">The first such <c>t</c>, exact; <c>NaN</c> when silent.</param>
/// <param name="VMax">The maximum of the trace over <c>[0, T]</c> (the shunted trace when the neuron fired).</param>
/// <param name="TMax">The earliest time of <paramref name="VMax"/>; 0 for a trace that never rises above 0.</param>
public readonly record struct ExactTempotronOutput(bool Fired, double CrossingTime, double VMax, double TMax);

/// <summary>
/// The tempotron of Gütig &amp; Sompolinsky (2006) in continuous time: exact first threshold crossing, shunting after
/// it, the maximum of the trace, all without a time grid. The grid approximation SpikingJelly computes is
/// <see cref="Tempotron"/>.
/// </summary>
/// <remarks>
/// <para>
/// Each of <see cref="Outputs"/> neurons computes <c>V(t) = sum_i w_i sum_j K(t - t_ij)</c> over the events
/// <c>(i, t_ij)</c> of a pattern, with <c>K(u) = V0 (exp(-u/tau) - exp(-u/tauS))</c> for <c>u &gt; 0</c>, else 0, and
/// <c>V0</c> normalising the peak of <c>K</c> to 1 (the paper's convention; SpikingJelly's grid model normalises it to
/// the threshold instead). Resting potential 0, threshold <see cref="Threshold"/>, window <c>[0, T]</c>.
/// </para>
/// <para>
/// Between consecutive input events <c>V(r + s) = a exp(-s/tau) - b exp(-s/tauS)</c>, with the sums <c>a</c>, <c>b</c>
/// rebased at every event (so nothing grows like <c>exp(t/tauS)</c>: windows of <c>10^6</c> ms are safe). The neuron
/// fires at the first <c>t_c</c> with <c>V(t_c) &gt;= theta</c>, found per segment from its maximum (end points and the
/// stationary point) and then a bracketed Newton root; input events at <c>t &gt;= t_c</c> have no effect (shunting).
/// Cost per pattern: <c>O(events)</c> exponentials shared by all outputs, then <c>O(events)</c> arithmetic per output.
/// See <c>docs/tempotron-exact.md</c>.
/// </para>
/// <para>
/// Reference: R. Gütig, H. Sompolinsky, "The tempotron: a neuron that learns spike timing-based decisions",
/// Nature Neuroscience 9 (2006) 420–428.
/// </para>
/// <para>
/// Thread safety: evaluation only reads the instance and uses per-thread scratch, so any number of evaluations may run
/// concurrently. Changing the weights (<see cref="SetWeights"/>, a <see cref="TempotronRule"/> step) while another
/// thread reads them is not safe: to serve a model while replacing it, publish frozen models in a
/// <see cref="ModelSlot{TModel}"/> (see <see cref="Freeze"/>).
/// </para>
/// </remarks>
public sealed partial class ExactTempotron : IFreezable
{
    /// <summary>The paper's membrane time constant: 15 ms.</summary>
    public const double DefaultTau = 15.0;

    /// <summary>The paper's synaptic time constant: 3.75 ms.</summary>
    public const double DefaultTauS = 3.75;

    /// <summary>The paper's threshold: 1 (with the resting potential at 0 and the PSP peak at 1).</summary>
    public const double DefaultThreshold = 1.0;

    /// <summary>The paper's pattern duration: 500 ms.</summary>
    public const double DefaultWindow = 500.0;

    [ThreadStatic]
    private static SegmentScratch? _scratch;

    private readonly DoubleWeights _weights;
    private readonly KernelConstants _constants;
    private readonly PspSegment _segment;

    /// <summary>Creates the model with all weights zero.</summary>
    /// <param name="afferents">The number of afferents <c>N</c>; at least 1.</param>
    /// <param name="outputs">The number of output neurons; at least 1.</param>
    /// <param name="window">The pattern duration <c>T</c>; finite and &gt; 0.</param>
    /// <param name="tau">The membrane time constant; finite, &gt; 0 and different from <paramref name="tauS"/> (either may be the larger; <c>tau &lt; tauS</c> gives a negative <c>V0</c> and the same positive PSP, as in SpikingJelly).</param>
    /// <param name="tauS">The synaptic time constant; finite and &gt; 0.</param>
    /// <param name="threshold">The firing threshold <c>theta</c>; finite and &gt; 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or constant breaks its rule, or <c>outputs * afferents</c> exceeds the largest array.</exception>
    public ExactTempotron(int afferents, int outputs, double window = DefaultWindow, double tau = DefaultTau,
        double tauS = DefaultTauS, double threshold = DefaultThreshold)
    {
        _constants = KernelConstants.Create(afferents, outputs, window, tau, tauS, threshold);
        _weights = new DoubleWeights(afferents, outputs);
        _segment = new PspSegment(tau, tauS);
    }

    /// <summary>Gets the number of afferents <c>N</c>.</summary>
    public int Afferents => _weights.Afferents;

    /// <summary>Gets the number of output neurons.</summary>
    public int Outputs => _weights.Outputs;

    /// <summary>Gets the pattern duration <c>T</c>: the trace is evaluated on <c>[0, T]</c>.</summary>
    public double Window => _constants.Window;

    /// <summary>Gets the membrane time constant <c>tau</c>.</summary>
    public double Tau => _constants.Tau;

    /// <summary>Gets the synaptic time constant <c>tauS</c>.</summary>
    public double TauS => _constants.TauS;

    /// <summary>Gets the firing threshold <c>theta</c>.</summary>
    public double Threshold => _constants.Threshold;

    /// <summary>Gets the PSP peak time <c>tPeak = tau tauS ln(tau / tauS) / (tau - tauS)</c>.</summary>
    public double TPeak => _constants.TPeak;

    /// <summary>Gets the PSP normalisation <c>V0 = 1 / (exp(-tPeak/tau) - exp(-tPeak/tauS))</c>: one PSP peaks at 1.</summary>
    public double V0 => _constants.V0;

    /// <summary>Gets the weights, shape <c>[outputs, afferents]</c> row-major; a writer calls <see cref="WeightsChanged"/> after writing.</summary>
    internal Span<double> Weights => _weights.Values;

    /// <summary>Gets the weight store (for the stream's transposed copy).</summary>
    internal DoubleWeights WeightStore => _weights;

    /// <summary>Forgets the cached <c>max |w|</c>; every write to <see cref="Weights"/> is followed by this call.</summary>
    internal void WeightsChanged() => _weights.Changed();

    /// <summary><c>max |w|</c>, computed once per change of the weights.</summary>
    internal double MaxAbsWeight() => _weights.MaxAbs();

    /// <summary>Returns weight <c>w[o, i]</c>.</summary>
    /// <param name="o">The output.</param>
    /// <param name="i">The afferent.</param>
    /// <returns>The weight.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An index is out of range.</exception>
    public double GetWeight(int o, int i) => _weights.Get(o, i);

    /// <summary>Copies the weights, <c>[outputs, afferents]</c> row-major, into <paramref name="destination"/>.</summary>
    /// <param name="destination">At least <c>outputs * afferents</c> doubles.</param>
    /// <exception cref="ArgumentException">The destination is too short.</exception>
    public void CopyWeightsTo(Span<double> destination) => _weights.CopyTo(destination);

    /// <summary>Gets whether the model is frozen (see <see cref="Freeze"/>).</summary>
    public bool IsFrozen => _weights.IsFrozen;

    /// <summary>
    /// Makes the model read-only for good: <see cref="SetWeights"/>, <see cref="RandomizeWeights"/>, a <see cref="TempotronRule"/> step and
    /// loading a model file into it then throw <see cref="InvalidOperationException"/> and change nothing, so any number
    /// of threads may read it while it is published (<see cref="ModelSlot{TModel}"/>). Evaluation works as before and
    /// gives the same bits. Freezing a frozen model does nothing.
    /// </summary>
    public void Freeze() => _weights.Freeze();

    /// <summary>Replaces the weights.</summary>
    /// <param name="weights">Exactly <c>outputs * afferents</c> finite doubles, <c>[outputs, afferents]</c> row-major.</param>
    /// <exception cref="ArgumentException">The length is wrong or a weight is not finite; nothing changed.</exception>
    /// <exception cref="InvalidOperationException">The model is frozen; nothing changed.</exception>
    public void SetWeights(ReadOnlySpan<double> weights) => _weights.Set(weights);

    /// <summary>Draws every weight from a Gaussian of mean 0 (the paper: standard deviation 0.001), seeded.</summary>
    /// <param name="seed">The seed.</param>
    /// <param name="standardDeviation">The standard deviation; finite and &gt;= 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="standardDeviation"/> breaks its rule.</exception>
    /// <exception cref="InvalidOperationException">The model is frozen; nothing changed.</exception>
    public void RandomizeWeights(int seed, double standardDeviation = 1e-3) => _weights.Randomize(seed, standardDeviation);
}
