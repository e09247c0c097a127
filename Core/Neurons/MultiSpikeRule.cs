using System.Globalization;
using TimingBased.Events;
using TimingBased.Internal;

namespace TimingBased.Neurons;

/// <summary>Which of Gütig's (2016) two rules a <see cref="MultiSpikeRule"/> applies.</summary>
public enum MultiSpikeRuleKind
{
    /// <summary>Move the critical threshold that separates the output count from the desired one: <c>dw = ±lr grad theta*</c>.</summary>
    CriticalThreshold,

    /// <summary>
    /// The correlation rule: each synapse's eligibility is the correlation of its PSPs with the voltage,
    /// <c>e_i = integral_0^T V(t) P_i(t) dt</c>; on an error the most eligible fraction of the synapses moves by
    /// <c>±lr</c> (up when too few spikes, down when too many). Cheaper: one walk and one backward pass per trial.
    /// </summary>
    Correlation,
}

/// <summary>
/// The multi-spike tempotron's learning rule (Gütig 2016): after a trial with <c>o</c> output spikes where <c>d</c>
/// were desired, move the critical threshold that separates <c>o</c> from <c>d</c> across the neuron's threshold.
/// </summary>
/// <remarks>
/// <para>
/// Per output, with <c>o = N(theta)</c> at the model's <see cref="MultiSpikeTempotron.Threshold"/> and the desired
/// count <c>d</c>: if <c>o &gt; d</c>, <c>dw = -lr grad theta*_o</c> (lower the threshold at which the <c>o</c>-th spike
/// is born); if <c>o &lt; d</c>, <c>dw = +lr grad theta*_{o+1}</c>; if <c>o = d</c>, nothing. A trial whose
/// <c>theta*</c> is undefined (the voltage never rises above 0) changes nothing. Momentum as in
/// <see cref="TempotronRule"/>: the applied update is <c>dw + momentum dwPrevious</c>, with <c>dwPrevious</c> the
/// output's last applied update, kept across correct trials.
/// </para>
/// <para>
/// With <see cref="MultiSpikeRuleKind.Correlation"/> the update of a wrong output is instead <c>±lr</c> on the synapses
/// whose eligibility <c>e_i = integral V(t) P_i(t) dt</c> is among the largest <see cref="EligibleFraction"/> of them
/// (at least one; ties at the cut all move), and 0 elsewhere.
/// </para>
/// <para>
/// Online (<see cref="Step"/>, <see cref="Cycle"/>: the weights change after each trial) or mini-batch
/// (<see cref="Batch"/>: every trial of the batch at the same weights, the updates summed, then applied once). A step
/// is all or nothing: if any new weight or momentum value would not be finite, it throws and nothing changes. Allocates
/// its buffers once, at construction. Not thread-safe; one rule per model and thread.
/// </para>
/// </remarks>
public sealed class MultiSpikeRule
{
    private readonly double[] _previous; // [outputs, afferents]: the last applied update
    private readonly double[] _update; // [outputs, afferents]: this step's update before momentum
    private readonly bool[] _changed; // per output: whether this step moves it
    private readonly double[] _row; // one output's gradient of theta*, or its eligibilities
    private readonly double[] _sorted; // the correlation rule's copy of the eligibilities, sorted for the cut

    [ThreadStatic]
    private static double[]? _gradientRow; // the static Gradient's
    private double _learningRate;

    /// <summary>Creates the rule for one model.</summary>
    /// <param name="model">The model to train.</param>
    /// <param name="learningRate">The learning rate <c>lr</c>; finite and &gt;= 0.</param>
    /// <param name="momentum">The momentum in <c>[0, 1)</c>.</param>
    /// <param name="kind">The critical-threshold rule (default) or the correlation rule.</param>
    /// <param name="eligibleFraction">For the correlation rule: the fraction of the synapses that move on an error, in <c>(0, 1]</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value breaks its rule.</exception>
    public MultiSpikeRule(MultiSpikeTempotron model, double learningRate, double momentum = 0,
        MultiSpikeRuleKind kind = MultiSpikeRuleKind.CriticalThreshold, double eligibleFraction = 0.1)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!(momentum >= 0 && momentum < 1))
        {
            ThrowHelper.FloatOutOfRange(nameof(momentum), momentum, "0 <= momentum < 1");
        }

        if (!Enum.IsDefined(kind))
        {
            ThrowHelper.IntOutOfRange(nameof(kind), (int)kind, 0, 1);
        }

        if (!(eligibleFraction > 0 && eligibleFraction <= 1))
        {
            ThrowHelper.FloatOutOfRange(nameof(eligibleFraction), eligibleFraction, "0 < eligibleFraction <= 1");
        }

        Kind = kind;
        EligibleFraction = eligibleFraction;
        _sorted = kind == MultiSpikeRuleKind.Correlation ? new double[model.Afferents] : [];

        Model = model;
        LearningRate = learningRate;
        Momentum = momentum;
        _previous = new double[model.Afferents * model.Outputs];
        _update = new double[_previous.Length];
        _changed = new bool[model.Outputs];
        _row = new double[model.Afferents];
    }

    /// <summary>Gets the model being trained.</summary>
    public MultiSpikeTempotron Model { get; }

    /// <summary>Gets or sets the learning rate; finite and &gt;= 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public double LearningRate
    {
        get => _learningRate;
        set => _learningRate = TempotronRule.CheckedRate(value);
    }

    /// <summary>Gets the momentum.</summary>
    public double Momentum { get; }

    /// <summary>Gets which rule is applied.</summary>
    public MultiSpikeRuleKind Kind { get; }

    /// <summary>Gets the fraction of the synapses the correlation rule moves on an error.</summary>
    public double EligibleFraction { get; }

    /// <summary>Forgets the momentum (the previous updates become zero).</summary>
    public void Reset() => Array.Clear(_previous);

    /// <summary>Presents one trial and applies the rule to every output whose spike count is wrong.</summary>
    /// <param name="pattern">The trial's events, in any order.</param>
    /// <param name="desired">The desired spike count of each output, <c>[outputs]</c>, each &gt;= 0.</param>
    /// <returns>The number of outputs whose count was wrong (before the update).</returns>
    /// <exception cref="ArgumentException">The pattern or a length is wrong.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A desired count is negative.</exception>
    /// <exception cref="InvalidOperationException">A new weight or momentum value would not be finite, or the model is frozen; nothing changed.</exception>
    public int Step(SpikePattern pattern, ReadOnlySpan<int> desired)
    {
        Model.WeightStore.ThrowIfFrozen();
        CheckDesired(desired, Model.Outputs);
        Array.Clear(_update);
        Array.Clear(_changed);
        var errors = Accumulate(pattern, desired);
        Apply();
        return errors;
    }

    /// <summary>One learning cycle: presents every trial once, in order, updating after each (online).</summary>
    /// <param name="trials">The trials.</param>
    /// <param name="desired">The desired counts, <c>[trials, outputs]</c>.</param>
    /// <returns>The number of (trial, output) errors made during the cycle.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="trials"/> is null.</exception>
    /// <exception cref="ArgumentException">A shape is wrong.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A desired count is negative.</exception>
    /// <exception cref="InvalidOperationException">A step would make a weight or momentum value non-finite; that step changed nothing, the earlier steps stay applied.</exception>
    public int Cycle(SpikeEvents trials, ReadOnlySpan<int> desired)
    {
        Model.WeightStore.ThrowIfFrozen();
        var outputs = CheckTrials(trials, desired);
        var errors = 0;
        for (var p = 0; p < trials.PatternCount; p++)
        {
            errors += Step(trials[p], desired.Slice(p * outputs, outputs));
        }

        return errors;
    }

    /// <summary>One mini-batch: every trial at the current weights, the rule's updates summed, then applied once (with momentum).</summary>
    /// <param name="trials">The trials of the batch.</param>
    /// <param name="desired">The desired counts, <c>[trials, outputs]</c>.</param>
    /// <returns>The number of (trial, output) errors in the batch (before the update).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="trials"/> is null.</exception>
    /// <exception cref="ArgumentException">A shape is wrong.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A desired count is negative.</exception>
    /// <exception cref="InvalidOperationException">A new weight or momentum value would not be finite, or the model is frozen; nothing changed.</exception>
    public int Batch(SpikeEvents trials, ReadOnlySpan<int> desired)
    {
        Model.WeightStore.ThrowIfFrozen();
        var outputs = CheckTrials(trials, desired);
        Array.Clear(_update);
        Array.Clear(_changed);
        var errors = 0;
        for (var p = 0; p < trials.PatternCount; p++)
        {
            errors += Accumulate(trials[p], desired.Slice(p * outputs, outputs));
        }

        Apply();
        return errors;
    }

    /// <summary>
    /// The critical-threshold rule as a gradient for one trial: <c>g[o, :] = grad theta*_o</c> where <c>o &gt; d</c>, <c>-grad theta*_{o+1}</c>
    /// where <c>o &lt; d</c>, 0 elsewhere, so that <c>w -= lr g</c> is the rule without momentum.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="pattern">The trial's events, in any order.</param>
    /// <param name="desired">The desired spike count of each output, <c>[outputs]</c>.</param>
    /// <param name="gradient">Receives <c>[outputs, afferents]</c> (overwritten).</param>
    /// <returns>The number of outputs whose count is wrong.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException">The pattern or a length is wrong.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A desired count is negative.</exception>
    public static int Gradient(MultiSpikeTempotron model, SpikePattern pattern, ReadOnlySpan<int> desired, Span<double> gradient)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckDesired(desired, model.Outputs);
        gradient = SpanChecks.Destination(gradient, nameof(gradient), "[outputs, afferents]", (long)model.Afferents * model.Outputs);

        gradient.Clear();
        if (_gradientRow is null || _gradientRow.Length < model.Afferents)
        {
            _gradientRow = new double[model.Afferents];
        }

        var errors = Accumulate(model, pattern, desired, gradient, [], _gradientRow.AsSpan(0, model.Afferents),
            MultiSpikeRuleKind.CriticalThreshold, 1, []);
        for (var k = 0; k < gradient.Length; k++)
        {
            gradient[k] = -gradient[k];
        }

        return errors;
    }

    /// <summary>This rule's share of one trial, into <c>_update</c> and <c>_changed</c>; returns the number of wrong outputs.</summary>
    private int Accumulate(SpikePattern pattern, ReadOnlySpan<int> desired) =>
        Accumulate(Model, pattern, desired, _update, _changed, _row, Kind, EligibleFraction, _sorted);

    /// <summary>
    /// Adds each wrong output's move to its row of <paramref name="update"/>: <c>sign grad theta*</c> (the
    /// critical-threshold rule) or <c>sign</c> on its most eligible synapses (the correlation rule), the direction
    /// computed in <paramref name="row"/>, with <c>sign = +1</c> for too few spikes and <c>-1</c> for too many. Returns
    /// the number of wrong outputs.
    /// </summary>
    private static int Accumulate(MultiSpikeTempotron model, SpikePattern pattern, ReadOnlySpan<int> desired, Span<double> update,
        Span<bool> changed, Span<double> row, MultiSpikeRuleKind kind, double eligibleFraction, Span<double> sorted)
    {
        var ordered = model.Prepare(pattern, out var walk);
        var n = model.Afferents;
        var errors = 0;
        for (var o = 0; o < model.Outputs; o++)
        {
            var count = model.CountOfPrepared(ordered, walk, o, model.Threshold);
            if (count == desired[o])
            {
                continue;
            }

            errors++;
            var tooMany = count > desired[o];
            var moves = kind == MultiSpikeRuleKind.Correlation
                ? MostEligible(model, ordered, walk, o, eligibleFraction, row, sorted)
                : model.CriticalOfPrepared(ordered, walk, o, tooMany ? count : count + 1, row).IsDefined; // undefined: a trace that never rises above 0
            if (!moves)
            {
                continue;
            }

            var target = update.Slice(o * n, n);
            var sign = tooMany ? -1.0 : 1.0;
            for (var i = 0; i < n; i++)
            {
                target[i] += sign * row[i];
            }

            if (!changed.IsEmpty)
            {
                changed[o] = true;
            }
        }

        return errors;
    }

    /// <summary>
    /// The correlation rule's direction: 1 in <paramref name="row"/> for the synapses whose eligibility is among the
    /// largest <paramref name="fraction"/> of them (at least one; ties at the cut included), 0 elsewhere.
    /// </summary>
    private static bool MostEligible(MultiSpikeTempotron model, SpikePattern ordered, SpikeWalk walk, int output, double fraction,
        Span<double> row, Span<double> sorted)
    {
        var n = model.Afferents;
        walk.Eligibility(ordered, model.WeightStore.Row(output), model.Threshold, row);
        row.CopyTo(sorted);
        sorted.Sort();
        var cut = sorted[n - Math.Max(1, (int)Math.Round(fraction * n))];
        for (var i = 0; i < n; i++)
        {
            row[i] = row[i] >= cut ? 1 : 0;
        }

        return true;
    }

    /// <summary>Applies <c>lr update + momentum previous</c> to every output that moves, after checking every new value is finite.</summary>
    private void Apply()
    {
        var n = Model.Afferents;
        var weights = Model.WeightStore.Values;
        var finite = true;
        for (var o = 0; o < Model.Outputs; o++)
        {
            if (!_changed[o])
            {
                continue;
            }

            for (var k = o * n; k < (o + 1) * n; k++)
            {
                var step = (LearningRate * _update[k]) + (Momentum * _previous[k]);
                _update[k] = step;
                finite &= double.IsFinite(step) && double.IsFinite(weights[k] + step);
            }
        }

        if (!finite)
        {
            ThrowHelper.NonFiniteResult("The multi-spike rule's update (a new weight or momentum value)");
        }

        for (var o = 0; o < Model.Outputs; o++)
        {
            if (!_changed[o])
            {
                continue;
            }

            for (var k = o * n; k < (o + 1) * n; k++)
            {
                weights[k] += _update[k];
                _previous[k] = _update[k];
            }
        }

        Model.WeightStore.Changed();
    }

    private int CheckTrials(SpikeEvents trials, ReadOnlySpan<int> desired)
    {
        ArgumentNullException.ThrowIfNull(trials);
        var outputs = Model.Outputs;
        if (trials.AfferentCount != Model.Afferents)
        {
            ThrowHelper.ElementRule(nameof(trials), string.Create(CultureInfo.InvariantCulture,
                $"trials must be over {Model.Afferents} afferents (the model's); they are over {trials.AfferentCount}."));
        }

        if (desired.Length != (long)trials.PatternCount * outputs)
        {
            ThrowHelper.LengthMismatch(nameof(desired), "[trials, outputs]", (long)trials.PatternCount * outputs, desired.Length);
        }

        CheckDesired(desired, desired.Length);
        return outputs;
    }

    private static void CheckDesired(ReadOnlySpan<int> desired, int length)
    {
        if (desired.Length != length)
        {
            ThrowHelper.LengthMismatch(nameof(desired), "[outputs]", length, desired.Length);
        }

        for (var k = 0; k < desired.Length; k++)
        {
            if (desired[k] < 0)
            {
                ThrowHelper.IntOutOfRange(nameof(desired), desired[k], 0, int.MaxValue);
            }
        }
    }
}
