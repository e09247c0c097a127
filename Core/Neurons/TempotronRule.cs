using System.Globalization;
using TimingBased.Events;
using TimingBased.Internal;

namespace TimingBased.Neurons;

/// <summary>
/// The tempotron learning rule with momentum (Gütig &amp; Sompolinsky 2006), online: the weights of an
/// <see cref="ExactTempotron"/> change after each pattern, in the order given.
/// </summary>
/// <remarks>
/// <para>
/// Each output has its own binary target per pattern (one-vs-rest). On an error only, with <c>tMax</c> the time of the
/// maximum of the (shunted) trace: target "fire" but silent gives <c>dw_i = +lr sum_{t_ij &lt; tMax} K(tMax - t_ij)</c>;
/// target "silent" but fired gives <c>dw_i = -lr sum_{t_ij &lt; tMax} K(tMax - t_ij)</c>; a correct output is unchanged.
/// Momentum as in the paper's simulations: the applied update is <c>dw + momentum dwPrevious</c>, where
/// <c>dwPrevious</c> is the output's last applied update, kept across correct trials.
/// </para>
/// <para>
/// The sum runs over every input before <c>tMax</c>, as the rule is written; after a crossing, inputs between
/// <c>t_c</c> and <c>tMax</c> are shunted (they do not change <c>V</c>) but still enter the sum.
/// </para>
/// <para>
/// Start from non-zero weights (<see cref="ExactTempotron.RandomizeWeights"/>, as the paper does): with all weights 0
/// the trace is 0, so <c>tMax = 0</c>, no input precedes it and every update is 0; a "fire" target is never learned.
/// </para>
/// <para>
/// A step is all or nothing: if any new weight or momentum value would not be finite, it throws and nothing changes.
/// Allocates its buffers once, at construction. Not thread-safe; one rule per model and thread.
/// </para>
/// </remarks>
public sealed class TempotronRule
{
    private readonly double[] _previous; // [outputs, afferents]: the last applied update
    private readonly double[] _update; // [outputs, afferents]: this step's applied update (rows of wrong outputs)
    private readonly ExactTempotronOutput[] _outputs;
    private double _learningRate;

    /// <summary>Creates the rule for one model.</summary>
    /// <param name="model">The model to train.</param>
    /// <param name="learningRate">The learning rate <c>lr</c> (the paper's lambda); finite and &gt;= 0.</param>
    /// <param name="momentum">The momentum <c>mu</c> in <c>[0, 1)</c> (the paper: 0.99).</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value breaks its rule.</exception>
    public TempotronRule(ExactTempotron model, double learningRate, double momentum = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!(momentum >= 0 && momentum < 1))
        {
            ThrowHelper.FloatOutOfRange(nameof(momentum), momentum, "0 <= momentum < 1");
        }

        Model = model;
        LearningRate = learningRate;
        Momentum = momentum;
        _previous = new double[model.Weights.Length];
        _update = new double[model.Weights.Length];
        _outputs = new ExactTempotronOutput[model.Outputs];
    }

    /// <summary>Gets the model being trained.</summary>
    public ExactTempotron Model { get; }

    /// <summary>Gets or sets the learning rate; finite and &gt;= 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public double LearningRate
    {
        get => _learningRate;
        set => _learningRate = CheckedRate(value);
    }

    /// <summary>Returns a learning rate that is finite and &gt;= 0, else throws naming <c>value</c> (both rules' setters).</summary>
    internal static double CheckedRate(double value)
    {
        if (!(double.IsFinite(value) && value >= 0))
        {
            ThrowHelper.NotFiniteNonNegative(nameof(value), value);
        }

        return value;
    }

    /// <summary>Gets the momentum.</summary>
    public double Momentum { get; }

    /// <summary>Forgets the momentum (the previous updates become zero).</summary>
    public void Reset() => Array.Clear(_previous);

    /// <summary>Presents one pattern and applies the rule to every output that classified it wrongly.</summary>
    /// <param name="patterns">The patterns.</param>
    /// <param name="pattern">Which pattern.</param>
    /// <param name="targets">Whether each output should fire, <c>[outputs]</c>.</param>
    /// <returns>The number of outputs that were wrong (before the update).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="patterns"/> is null.</exception>
    /// <exception cref="ArgumentException">A shape is wrong.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pattern"/> is out of range.</exception>
    /// <exception cref="InvalidOperationException">A new weight or momentum value would not be finite, or the model is frozen; nothing changed.</exception>
    public int Step(SpikeEvents patterns, int pattern, ReadOnlySpan<bool> targets)
    {
        Model.WeightStore.ThrowIfFrozen();
        Model.ValidatePatterns(patterns);
        if (targets.Length != Model.Outputs)
        {
            ThrowHelper.LengthMismatch(nameof(targets), "[outputs]", Model.Outputs, targets.Length);
        }

        return StepCore(ExactTempotron.InTimeOrder(patterns[pattern]), targets);
    }

    /// <summary>One learning cycle: presents every pattern once, in order, updating after each.</summary>
    /// <param name="patterns">The patterns.</param>
    /// <param name="targets">Whether each output should fire on each pattern, <c>[patterns, outputs]</c>.</param>
    /// <returns>The number of (pattern, output) errors made during the cycle.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="patterns"/> is null.</exception>
    /// <exception cref="ArgumentException">A shape is wrong.</exception>
    /// <exception cref="InvalidOperationException">
    /// A step would make a weight or momentum value non-finite; that step changed nothing, the earlier steps of the
    /// cycle stay applied.
    /// </exception>
    public int Cycle(SpikeEvents patterns, ReadOnlySpan<bool> targets)
    {
        Model.WeightStore.ThrowIfFrozen();
        Model.ValidatePatterns(patterns);
        var outputs = Model.Outputs;
        if (targets.Length != (long)patterns.PatternCount * outputs)
        {
            ThrowHelper.LengthMismatch(nameof(targets), "[patterns, outputs]", (long)patterns.PatternCount * outputs, targets.Length);
        }

        var errors = 0;
        for (var p = 0; p < patterns.PatternCount; p++)
        {
            errors += StepCore(ExactTempotron.InTimeOrder(patterns[p]), targets.Slice(p * outputs, outputs));
        }

        return errors;
    }

    private int StepCore(SpikePattern pattern, ReadOnlySpan<bool> targets)
    {
        var model = Model;
        var n = model.Afferents;
        model.EvaluatePattern(pattern, _outputs);
        var errors = 0;
        var finite = true;
        for (var o = 0; o < model.Outputs; o++)
        {
            var result = _outputs[o];
            if (result.Fired == targets[o])
            {
                continue;
            }

            errors++;
            var update = _update.AsSpan(o * n, n);
            var previous = _previous.AsSpan(o * n, n);
            var weights = model.Weights.Slice(o * n, n);
            for (var i = 0; i < n; i++)
            {
                update[i] = Momentum * previous[i];
            }

            model.AddRuleTerms(pattern, result.TMax, (targets[o] ? 1.0 : -1.0) * LearningRate, update);
            for (var i = 0; i < n; i++)
            {
                finite &= double.IsFinite(update[i]) && double.IsFinite(weights[i] + update[i]);
            }
        }

        if (!finite)
        {
            ThrowHelper.NonFiniteResult("The tempotron rule's update (a new weight or momentum value)");
        }

        for (var o = 0; o < model.Outputs && errors > 0; o++)
        {
            if (_outputs[o].Fired == targets[o])
            {
                continue;
            }

            var update = _update.AsSpan(o * n, n);
            var weights = model.Weights.Slice(o * n, n);
            for (var i = 0; i < n; i++)
            {
                weights[i] += update[i];
            }

            update.CopyTo(_previous.AsSpan(o * n, n));
        }

        if (errors > 0)
        {
            model.WeightsChanged();
        }

        return errors;
    }

    /// <summary>
    /// Computes the rule's gradient for one pattern: for each output that is wrong, <c>g[o, i] = -sign sum_{t_ij &lt; tMax}
    /// K(tMax - t_ij)</c> with <c>sign = +1</c> for a missed target and <c>-1</c> for a false alarm, 0 for a correct
    /// output. <c>w -= lr g</c> is the rule without momentum, so any optimizer or batch sum can use it.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="patterns">The patterns.</param>
    /// <param name="pattern">Which pattern.</param>
    /// <param name="targets">Whether each output should fire, <c>[outputs]</c>.</param>
    /// <param name="gradient">Receives <c>[outputs, afferents]</c> (overwritten).</param>
    /// <returns>The number of wrong outputs.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="patterns"/> is null.</exception>
    /// <exception cref="ArgumentException">A shape is wrong.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pattern"/> is out of range.</exception>
    public static int Gradient(ExactTempotron model, SpikeEvents patterns, int pattern, ReadOnlySpan<bool> targets, Span<double> gradient)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.ValidatePatterns(patterns);
        if (targets.Length != model.Outputs)
        {
            ThrowHelper.LengthMismatch(nameof(targets), "[outputs]", model.Outputs, targets.Length);
        }

        gradient = SpanChecks.Destination(gradient, nameof(gradient), "[outputs, afferents]", model.Weights.Length);

        var events = ExactTempotron.InTimeOrder(patterns[pattern]);
        Span<ExactTempotronOutput> results = model.Outputs <= 64 ? stackalloc ExactTempotronOutput[model.Outputs] : new ExactTempotronOutput[model.Outputs];
        model.EvaluatePattern(events, results);
        gradient.Clear();
        var errors = 0;
        for (var o = 0; o < model.Outputs; o++)
        {
            if (results[o].Fired != targets[o])
            {
                errors++;
                model.AddRuleTerms(events, results[o].TMax, targets[o] ? -1.0 : 1.0, gradient.Slice(o * model.Afferents, model.Afferents));
            }
        }

        return errors;
    }
}
