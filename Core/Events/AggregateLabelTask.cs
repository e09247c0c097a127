using System.Globalization;
using TimingBased.Internal;

namespace TimingBased.Events;

/// <summary>The settings of an <see cref="AggregateLabelTask"/>; the defaults are the paper's toy setting (Gütig 2016, Fig. 2).</summary>
public readonly record struct AggregateLabelTaskOptions
{
    /// <summary>Gets the number of afferents <c>N</c> (default 500).</summary>
    public int Afferents { get; init; } = 500;

    /// <summary>Gets each afferent's Poisson rate, in spikes per ms, in the background and in the features (default 0.005: 5 Hz).</summary>
    public double Rate { get; init; } = 0.005;

    /// <summary>Gets the background's duration per trial in ms, before features are inserted (default 500).</summary>
    public double BackgroundDuration { get; init; } = 500;

    /// <summary>Gets the number of fixed features (default 5: one target, four distractors).</summary>
    public int Features { get; init; } = 5;

    /// <summary>Gets each feature's duration in ms (default 50).</summary>
    public double FeatureDuration { get; init; } = 50;

    /// <summary>Gets the mean number of occurrences of each feature per trial, Poisson (default 0.5).</summary>
    public double MeanOccurrences { get; init; } = 0.5;

    /// <summary>Creates the default settings.</summary>
    public AggregateLabelTaskOptions()
    {
    }
}

/// <summary>
/// A seeded generator of aggregate-label trials: Poisson background on every afferent, with fixed feature patterns
/// (each itself a Poisson spike pattern of the same rate, drawn once) inserted at random times a Poisson number of times.
/// The label of a trial is a weighted sum of its features' counts (by default the count of feature 0).
/// </summary>
/// <remarks>
/// A trial is built by drawing each feature's count, cutting the background at uniformly drawn times and inserting
/// the occurrences there, in random order, so a trial lasts <c>BackgroundDuration + occurrences FeatureDuration</c>
/// and the features' statistics equal the background's (only their repetition identifies them). Deterministic for a
/// seed: the features come from the seed, and the trials from the same generator in order. Not thread-safe.
/// </remarks>
public sealed class AggregateLabelTask
{
    private readonly AggregateLabelTaskOptions _options;
    private readonly Random _rng;
    private readonly List<(int Afferent, double Time)>[] _features;
    private readonly List<(int Afferent, double Time)> _trial = [];
    private readonly List<(double Cut, int Feature)> _inserts = [];

    /// <summary>Draws the features.</summary>
    /// <param name="options">The settings.</param>
    /// <param name="seed">The seed of the features and of the trials that follow.</param>
    /// <exception cref="ArgumentException">A setting is out of range (sizes at least 1, rates and durations finite and &gt; 0, the mean &gt;= 0).</exception>
    public AggregateLabelTask(AggregateLabelTaskOptions options, int seed)
    {
        if (options.Afferents < 1)
        {
            Refuse("Afferents", "at least 1", options.Afferents);
        }

        if (options.Features < 1)
        {
            Refuse("Features", "at least 1", options.Features);
        }

        foreach (var (name, value) in new[] { ("Rate", options.Rate), ("BackgroundDuration", options.BackgroundDuration), ("FeatureDuration", options.FeatureDuration) })
        {
            if (!(double.IsFinite(value) && value > 0))
            {
                Refuse(name, "finite and > 0", value);
            }
        }

        if (!(double.IsFinite(options.MeanOccurrences) && options.MeanOccurrences >= 0))
        {
            Refuse("MeanOccurrences", "finite and >= 0", options.MeanOccurrences);
        }

        _options = options;
        _rng = new Random(seed);
        _features = new List<(int, double)>[options.Features];
        for (var f = 0; f < options.Features; f++)
        {
            _features[f] = [];
            Poisson(_features[f], 0, options.FeatureDuration);
        }
    }

    /// <summary>Gets the settings.</summary>
    public AggregateLabelTaskOptions Options => _options;

    /// <summary>Draws the next trial into <paramref name="destination"/> (one pattern, in time order).</summary>
    /// <param name="destination">The events; the trial is appended as one pattern. Its afferent count must be <c>Afferents</c>.</param>
    /// <param name="counts">Receives each feature's number of occurrences, <c>[Features]</c>.</param>
    /// <param name="onsets">Where not null, cleared and filled with each occurrence's (feature, onset time), in time order.</param>
    /// <returns>The trial's duration in ms.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is null.</exception>
    /// <exception cref="ArgumentException">The destination is over another number of afferents, or <paramref name="counts"/> has another length.</exception>
    public double NextTrial(SpikeEvents destination, Span<int> counts, List<(int Feature, double Onset)>? onsets = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.AfferentCount != _options.Afferents)
        {
            ThrowHelper.ElementRule(nameof(destination), string.Create(CultureInfo.InvariantCulture,
                $"destination must be over {_options.Afferents} afferents; it is over {destination.AfferentCount}."));
        }

        if (counts.Length != _options.Features)
        {
            ThrowHelper.LengthMismatch(nameof(counts), "[features]", _options.Features, counts.Length);
        }

        _inserts.Clear();
        for (var f = 0; f < _options.Features; f++)
        {
            counts[f] = PoissonCount(_options.MeanOccurrences);
            for (var c = 0; c < counts[f]; c++)
            {
                _inserts.Add((_rng.NextDouble() * _options.BackgroundDuration, f));
            }
        }

        _inserts.Sort((x, y) => x.Cut.CompareTo(y.Cut));
        _trial.Clear();
        onsets?.Clear();
        var background = new List<(int Afferent, double Time)>();
        Poisson(background, 0, _options.BackgroundDuration);
        background.Sort((x, y) => x.Time.CompareTo(y.Time));

        // Walk the background, inserting each occurrence at its cut: later background shifts by the features before it.
        var shift = 0.0;
        var next = 0;
        foreach (var (cut, feature) in _inserts)
        {
            for (; next < background.Count && background[next].Time < cut; next++)
            {
                _trial.Add((background[next].Afferent, background[next].Time + shift));
            }

            onsets?.Add((feature, cut + shift));
            foreach (var (afferent, time) in _features[feature])
            {
                _trial.Add((afferent, cut + shift + time));
            }

            shift += _options.FeatureDuration;
        }

        for (; next < background.Count; next++)
        {
            _trial.Add((background[next].Afferent, background[next].Time + shift));
        }

        _trial.Sort((x, y) => x.Time.CompareTo(y.Time));
        var afferents = new int[_trial.Count];
        var times = new double[_trial.Count];
        for (var k = 0; k < _trial.Count; k++)
        {
            (afferents[k], times[k]) = _trial[k];
        }

        destination.AddPattern(afferents, times);
        return _options.BackgroundDuration + shift;
    }

    private static void Refuse(string setting, string rule, double value) =>
        ThrowHelper.ElementRule("options", string.Create(CultureInfo.InvariantCulture, $"options.{setting} must be {rule}; was {value:R}."));

    /// <summary>A Poisson spike train of the task's rate on every afferent over <c>[from, from + duration)</c>.</summary>
    private void Poisson(List<(int Afferent, double Time)> into, double from, double duration)
    {
        for (var i = 0; i < _options.Afferents; i++)
        {
            for (var t = from + Exponential(); t < from + duration; t += Exponential())
            {
                into.Add((i, t));
            }
        }
    }

    private double Exponential() => -Math.Log(1 - _rng.NextDouble()) / _options.Rate;

    /// <summary>A Poisson count by multiplying uniforms (small means).</summary>
    private int PoissonCount(double mean)
    {
        var limit = Math.Exp(-mean);
        var product = _rng.NextDouble();
        var count = 0;
        while (product > limit)
        {
            count++;
            product *= _rng.NextDouble();
        }

        return count;
    }
}
