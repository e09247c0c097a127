using TimingBased.Events;
using TimingBased.Internal;
using TimingBased.Serving;

namespace TimingBased.Neurons;

/// <summary>A critical threshold of the spike-threshold surface: <c>theta*_k</c> and the time <c>t*_k</c> of the spike born there.</summary>
/// <param name="IsDefined">Whether the neuron emits <c>k</c> spikes at some threshold <c>&gt; 0</c>; false for a trace that never rises above 0.</param>
/// <param name="Theta"><c>theta*_k = sup { theta &gt; 0 : N(theta) &gt;= k }</c>; NaN when undefined.</param>
/// <param name="Time"><c>t*_k</c>: the local maximum of <c>V</c> (at <c>theta*_k</c>, with the spikes before it) where the new spike is born; NaN when undefined.</param>
public readonly record struct CriticalThreshold(bool IsDefined, double Theta, double Time)
{
    /// <summary>The value for a neuron that never emits <c>k</c> spikes.</summary>
    public static CriticalThreshold Undefined { get; } = new(false, double.NaN, double.NaN);
}

/// <summary>
/// The multi-spike tempotron of Gütig (2016) in continuous time: exact output spike times with a subtractive reset,
/// the spike-threshold surface <c>N(theta)</c>, its critical thresholds <c>theta*_k</c> with their gradients.
/// </summary>
/// <remarks>
/// <para>
/// Each of <see cref="Outputs"/> neurons has the unreset voltage <c>V_0(t) = sum_i w_i sum_j K(t - t_ij)</c>, with
/// <c>K(u) = V0 (exp(-u/tau) - exp(-u/tauS))</c> for <c>u &gt; 0</c>, else 0, <c>V0</c> making the peak of <c>K</c> 1, and
/// the voltage <c>V(t) = V_0(t) - theta sum_{t_s &lt; t} exp(-(t - t_s)/tau)</c>. Output spikes are generated in order,
/// each the first <c>t</c> after the previous one with <c>V(t) &gt;= theta</c>, in <c>[0, T]</c> (a spike at <c>T</c>
/// counts). Between events the voltage is one segment <c>a exp(-s/tau) - b exp(-s/tauS)</c>, as in
/// <see cref="ExactTempotron"/>; a spike subtracts <c>theta</c> from <c>a</c> and the walk goes on from its time. See
/// <c>docs/multi-spike.md</c>.
/// </para>
/// <para>
/// Reference: R. Gütig, "Spiking neurons can discover predictive features by aggregate-label learning", Science 351
/// (2016) aab4113.
/// </para>
/// <para>
/// Thread safety: evaluation only reads the instance and uses per-thread scratch, so any number of evaluations may run
/// concurrently. Changing the weights while another thread reads them is not safe: to serve a model while replacing it, publish frozen models in a
/// <see cref="ModelSlot{TModel}"/> (see <see cref="Freeze"/>).
/// </para>
/// </remarks>
public sealed partial class MultiSpikeTempotron : IFreezable
{
    /// <summary>The paper's membrane time constant: 20 ms.</summary>
    public const double DefaultTau = 20.0;

    /// <summary>The paper's synaptic time constant: 5 ms.</summary>
    public const double DefaultTauS = 5.0;

    /// <summary>The paper's threshold: 1 (rest 0, the PSP peak 1).</summary>
    public const double DefaultThreshold = 1.0;

    /// <summary>A default trial duration: 500 ms.</summary>
    public const double DefaultWindow = 500.0;

    private readonly DoubleWeights _weights;
    private readonly KernelConstants _constants;
    private readonly PspSegment _segment;

    /// <summary>Creates the model with all weights zero.</summary>
    /// <param name="afferents">The number of afferents <c>N</c>; at least 1.</param>
    /// <param name="outputs">The number of output neurons; at least 1.</param>
    /// <param name="window">The trial duration <c>T</c>; finite and &gt; 0.</param>
    /// <param name="tau">The membrane time constant (also the reset's decay); finite, &gt; 0 and different from <paramref name="tauS"/> (either may be the larger).</param>
    /// <param name="tauS">The synaptic time constant; finite and &gt; 0.</param>
    /// <param name="threshold">The firing threshold <c>theta</c>; finite and &gt; 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or constant breaks its rule, or <c>outputs * afferents</c> exceeds the largest array.</exception>
    public MultiSpikeTempotron(int afferents, int outputs = 1, double window = DefaultWindow, double tau = DefaultTau,
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

    /// <summary>Gets the trial duration <c>T</c>: spikes are generated on <c>[0, T]</c>.</summary>
    public double Window => _constants.Window;

    /// <summary>Gets the membrane time constant <c>tau</c> (the reset decays with it too).</summary>
    public double Tau => _constants.Tau;

    /// <summary>Gets the synaptic time constant <c>tauS</c>.</summary>
    public double TauS => _constants.TauS;

    /// <summary>Gets the firing threshold <c>theta</c> used by <see cref="Spikes(SpikePattern, int, Span{double})"/>.</summary>
    public double Threshold => _constants.Threshold;

    /// <summary>Gets the PSP peak time <c>tPeak = tau tauS ln(tau / tauS) / (tau - tauS)</c>.</summary>
    public double TPeak => _constants.TPeak;

    /// <summary>Gets the PSP normalisation <c>V0 = 1 / (exp(-tPeak/tau) - exp(-tPeak/tauS))</c>: one PSP peaks at 1.</summary>
    public double V0 => _constants.V0;

    /// <summary>Gets the weights, shape <c>[outputs, afferents]</c>; a writer calls <see cref="DoubleWeights.Changed"/>.</summary>
    internal DoubleWeights WeightStore => _weights;

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
    /// Makes the model read-only for good: <see cref="SetWeights"/>, <see cref="RandomizeWeights"/>, a <see cref="MultiSpikeRule"/> step and
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

    /// <summary>Draws every weight from a Gaussian of mean 0, seeded.</summary>
    /// <param name="seed">The seed.</param>
    /// <param name="standardDeviation">The standard deviation; finite and &gt;= 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="standardDeviation"/> breaks its rule.</exception>
    /// <exception cref="InvalidOperationException">The model is frozen; nothing changed.</exception>
    public void RandomizeWeights(int seed, double standardDeviation = 1e-2) => _weights.Randomize(seed, standardDeviation);

    /// <summary>The output spike times of one output at the model's <see cref="Threshold"/>.</summary>
    /// <param name="pattern">The events, in any order; afferents in range, times finite and &gt;= 0.</param>
    /// <param name="output">The output neuron.</param>
    /// <param name="destination">Receives the first spike times, in order, as many as fit.</param>
    /// <returns>The number of output spikes (it may exceed the destination's length).</returns>
    /// <exception cref="ArgumentException">The pattern is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="output"/> is out of range.</exception>
    public int Spikes(SpikePattern pattern, int output, Span<double> destination) => Spikes(pattern, output, Threshold, destination);

    /// <summary>The output spike times of one output at threshold <paramref name="theta"/> (the reset is <paramref name="theta"/> too).</summary>
    /// <param name="pattern">The events, in any order; afferents in range, times finite and &gt;= 0.</param>
    /// <param name="output">The output neuron.</param>
    /// <param name="theta">The threshold; finite and &gt; 0.</param>
    /// <param name="destination">Receives the first spike times, in order, as many as fit; untouched when the call throws.</param>
    /// <returns>The number of output spikes <c>N(theta)</c> (it may exceed the destination's length).</returns>
    /// <exception cref="ArgumentException">The pattern is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="output"/> or <paramref name="theta"/> is out of range.</exception>
    /// <exception cref="InvalidOperationException">The trace overflows, or more than <c>2^22</c> spikes would be emitted; nothing was written.</exception>
    public int Spikes(SpikePattern pattern, int output, double theta, Span<double> destination)
    {
        CheckOutput(output);
        CheckTheta(theta);
        var ordered = Prepare(pattern, out var walk);
        if (!destination.IsEmpty)
        {
            // A walk that fails (an overflowed trace, too many spikes) throws after the spikes before the failure: count
            // first, so a failure writes nothing.
            walk.Run(ordered, _weights.Row(output), theta, [], [], int.MaxValue);
        }

        return walk.Run(ordered, _weights.Row(output), theta, destination, default, int.MaxValue);
    }

    /// <summary>The spike-threshold surface at one threshold: <c>N(theta)</c>, the number of output spikes.</summary>
    /// <param name="pattern">The events, in any order; afferents in range, times finite and &gt;= 0.</param>
    /// <param name="output">The output neuron.</param>
    /// <param name="theta">The threshold; finite and &gt; 0.</param>
    /// <returns><c>N(theta)</c>.</returns>
    /// <exception cref="ArgumentException">The pattern is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="output"/> or <paramref name="theta"/> is out of range.</exception>
    public int SpikeCount(SpikePattern pattern, int output, double theta) => Spikes(pattern, output, theta, []);

    private void CheckOutput(int output)
    {
        if ((uint)output >= (uint)Outputs)
        {
            ThrowHelper.IntOutOfRange(nameof(output), output, 0, Outputs - 1);
        }
    }

    private static void CheckTheta(double theta)
    {
        if (!(double.IsFinite(theta) && theta > 0))
        {
            ThrowHelper.NotFinitePositive(nameof(theta), theta);
        }
    }

    [ThreadStatic]
    private static SpikeWalk? _walk;

    /// <summary>Computes <c>V(t)</c> of one output at the given times, by the definition: the unreset trace less the resets of the spikes before <c>t</c>.</summary>
    /// <param name="pattern">The events, in any order; afferents in range, times finite and &gt;= 0.</param>
    /// <param name="output">The output neuron.</param>
    /// <param name="times">The times at which to evaluate; not NaN.</param>
    /// <param name="destination">Receives <c>V</c> at each time; at least as long as <paramref name="times"/>.</param>
    /// <remarks><c>O(events + spikes)</c> per time; for plots and checks, not for the hot path.</remarks>
    /// <exception cref="ArgumentException">The pattern or a length is wrong, or a time is NaN.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="output"/> is out of range.</exception>
    public void Voltage(SpikePattern pattern, int output, ReadOnlySpan<double> times, Span<double> destination)
    {
        CheckOutput(output);
        SpanChecks.Destination(destination, nameof(destination), "[times]", times.Length);

        ExactTempotron.ThrowIfAnyNaN(times);
        var ordered = Prepare(pattern, out var walk);
        var w = _weights.Row(output);
        var count = walk.Run(ordered, w, Threshold, [], [], int.MaxValue);
        var spikes = new double[count];
        walk.Run(ordered, w, Threshold, spikes, [], int.MaxValue);
        for (var n = 0; n < times.Length; n++)
        {
            double v = 0;
            for (var k = 0; k < ordered.Count; k++)
            {
                var u = times[n] - ordered.Times[k];
                if (u > 0)
                {
                    v += w[ordered.Afferents[k]] * V0 * (Math.Exp(-u / Tau) - Math.Exp(-u / TauS));
                }
            }

            foreach (var t in spikes)
            {
                if (t < times[n])
                {
                    v -= Threshold * Math.Exp(-(times[n] - t) / Tau);
                }
            }

            destination[n] = v;
        }
    }

    /// <summary>
    /// Each afferent's eligibility for the correlation rule, <c>e_i = integral_0^T V(t) P_i(t) dt</c>: the correlation of
    /// its PSPs <c>P_i(t) = sum_j K(t - t_ij)</c> with the output's voltage (resets included) at the model's threshold.
    /// </summary>
    /// <param name="pattern">The events, in any order; afferents in range, times finite and &gt;= 0.</param>
    /// <param name="output">The output neuron.</param>
    /// <param name="destination">Receives <c>e</c>, shape <c>[afferents]</c> (its first elements, overwritten).</param>
    /// <exception cref="ArgumentException">The pattern is invalid, or the destination is too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="output"/> is out of range.</exception>
    public void Eligibility(SpikePattern pattern, int output, Span<double> destination)
    {
        CheckOutput(output);
        destination = SpanChecks.Destination(destination, nameof(destination), "[afferents]", Afferents);

        var ordered = Prepare(pattern, out var walk);
        walk.Eligibility(ordered, _weights.Row(output), Threshold, destination);
    }

    /// <summary><c>N(theta)</c> of one output on a checked, time-ordered pattern whose walk is ready.</summary>
    internal int CountOfPrepared(SpikePattern ordered, SpikeWalk walk, int output, double theta) =>
        walk.Run(ordered, _weights.Row(output), theta, [], [], int.MaxValue);

    /// <summary>Checks the pattern, puts it in time order, and readies this thread's walk over its segments.</summary>
    internal SpikePattern Prepare(SpikePattern pattern, out SpikeWalk walk)
    {
        ExactTempotron.ValidatePattern(pattern, Afferents);
        var ordered = ExactTempotron.InTimeOrder(pattern);
        walk = _walk ??= new SpikeWalk();
        walk.Prepare(ordered, _constants, _segment);
        return ordered;
    }
}
