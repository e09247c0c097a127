using System.Globalization;
using System.Numerics.Tensors;
using TimingBased.Internal;

namespace TimingBased.Neurons;

/// <summary>
/// The weights of a continuous-time model (<see cref="ExactTempotron"/>, <see cref="MultiSpikeTempotron"/>): doubles,
/// <c>[outputs, afferents]</c> row-major, with the checked public accessors both models expose and a cached
/// <c>max |w|</c>.
/// </summary>
internal sealed class DoubleWeights
{
    private readonly double[] _values;
    private double _maxAbs; // max |w|, or NaN when the weights changed since it was computed
    private volatile bool _frozen;

    public DoubleWeights(int afferents, int outputs)
    {
        Afferents = afferents;
        Outputs = outputs;
        _values = new double[afferents * outputs];
    }

    public int Afferents { get; }

    /// <summary>Gets whether the weights are frozen: every writer calls <see cref="ThrowIfFrozen"/> before it changes anything.</summary>
    public bool IsFrozen => _frozen;

    /// <summary>Freezes the weights for good; the max |w| is computed now, so readers never write the cache.</summary>
    public void Freeze()
    {
        MaxAbs();
        _frozen = true;
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> when frozen, naming <paramref name="model"/>.</summary>
    public void ThrowIfFrozen(string model = "model")
    {
        if (_frozen)
        {
            ThrowHelper.Frozen(model);
        }
    }

    public int Outputs { get; }

    /// <summary>The weights; a writer calls <see cref="Changed"/> after writing.</summary>
    public Span<double> Values => _values;

    /// <summary>One output's row of <see cref="Afferents"/> weights.</summary>
    public ReadOnlySpan<double> Row(int output) => _values.AsSpan(output * Afferents, Afferents);

    /// <summary>Forgets the cached <c>max |w|</c>.</summary>
    public void Changed() => _maxAbs = double.NaN;

    /// <summary><c>max |w|</c>, computed once per change (concurrent readers may both compute it and write the same value).</summary>
    public double MaxAbs()
    {
        var max = _maxAbs;
        if (double.IsNaN(max))
        {
            max = Math.Abs(TensorPrimitives.MaxMagnitude<double>(_values));
            _maxAbs = max;
        }

        return max;
    }

    /// <summary>
    /// Writes <c>scale w</c> transposed, <c>[afferents, outputs]</c>: the layout a stream adds one input's row from
    /// (every output's weight of that afferent, side by side).
    /// </summary>
    public void CopyTransposed(double scale, Span<double> destination)
    {
        for (var o = 0; o < Outputs; o++)
        {
            for (var i = 0; i < Afferents; i++)
            {
                destination[(i * Outputs) + o] = scale * _values[(o * Afferents) + i];
            }
        }
    }

    public double Get(int o, int i)
    {
        if ((uint)o >= (uint)Outputs)
        {
            ThrowHelper.IntOutOfRange(nameof(o), o, 0, Outputs - 1);
        }

        if ((uint)i >= (uint)Afferents)
        {
            ThrowHelper.IntOutOfRange(nameof(i), i, 0, Afferents - 1);
        }

        return _values[(o * Afferents) + i];
    }

    public void CopyTo(Span<double> destination)
    {
        SpanChecks.Destination(destination, nameof(destination), "[outputs, afferents]", _values.Length);

        _values.CopyTo(destination);
    }

    public void Set(ReadOnlySpan<double> weights)
    {
        ThrowIfFrozen();
        if (weights.Length != _values.Length)
        {
            ThrowHelper.LengthMismatch(nameof(weights), "[outputs, afferents]", _values.Length, weights.Length);
        }

        for (var k = 0; k < weights.Length; k++)
        {
            if (!double.IsFinite(weights[k]))
            {
                ThrowHelper.ElementRule(nameof(weights), string.Create(CultureInfo.InvariantCulture,
                    $"weights must be finite; it is {weights[k]:R} at (output {k / Afferents}, afferent {k % Afferents})."));
            }
        }

        weights.CopyTo(_values);
        Changed();
    }

    public void Randomize(int seed, double standardDeviation)
    {
        ThrowIfFrozen();
        if (!(double.IsFinite(standardDeviation) && standardDeviation >= 0))
        {
            ThrowHelper.NotFiniteNonNegative(nameof(standardDeviation), standardDeviation);
        }

        var rng = new Random(seed);
        for (var k = 0; k < _values.Length; k++)
        {
            // Box-Muller: 1 - u is in (0, 1], so the logarithm is finite.
            var u = 1.0 - rng.NextDouble();
            var v = rng.NextDouble();
            _values[k] = standardDeviation * Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v);
        }

        Changed();
    }
}
