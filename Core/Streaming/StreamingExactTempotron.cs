using System.Globalization;
using TimingBased.Internal;
using TimingBased.Neurons;

namespace TimingBased.Streaming;

/// <summary>
/// Evaluates one pattern of an <see cref="ExactTempotron"/> event by event, and reports each output the moment its
/// voltage first reaches the threshold, at the exact crossing time; inputs after an output's crossing are shunted.
/// </summary>
/// <remarks>
/// <para>
/// Events come as <see cref="Push"/><c>(afferent, time)</c> with non-decreasing times. Between events the voltage is one
/// segment <c>a exp(-s/tau) - b exp(-s/tauS)</c>; advancing to a time checks that segment for every output that has
/// not fired (its maximum, then the bracketed root, as the batch evaluation does) and rebases the sums. So after any
/// call the outputs that have fired and their crossing times are exact, and nothing is ever re-evaluated. Per event:
/// two exponentials shared by all outputs and <c>O(out)</c> arithmetic; nothing depends on <c>N</c> or the window, and
/// nothing is allocated after construction. Crossings are reported inside <c>[0, Window]</c>; events after the window
/// are ignored.
/// </para>
/// <para>
/// After <see cref="AdvanceTo"/>(Window) the fired outputs and crossing times equal the batch evaluation of the same
/// events up to the rounding of the per-segment exponentials (the batch computes them vectorised, the stream with
/// <see cref="Math.Exp"/>).
/// </para>
/// <para>
/// Thread safety: a stream is single-threaded; any number of streams may share one model. The stream copies the
/// weights when it is created and on <see cref="Reset"/>.
/// </para>
/// </remarks>
public sealed class StreamingExactTempotron
{
    private readonly ExactTempotron _model;
    private readonly PspSegment _segment;
    private readonly double[] _weights; // [afferents, outputs], times V0
    private readonly double[] _a; // per output: the sums at _reference (for a fired output: frozen at its crossing segment)
    private readonly double[] _b;
    private readonly double[] _aAtReference; // per output: the sums at _reference before the inputs pushed at that time
    private readonly double[] _bAtReference;
    private readonly double[] _frozenAt; // per output: the reference time of the frozen sums, NaN while not fired
    private readonly double[] _crossing;
    private readonly double[] _max; // per output, not yet fired: the maximum of the trace so far
    private double _reference;
    private double _time;
    private int _first;
    private int _firedCount;

    /// <summary>Creates a stream over <paramref name="model"/>, at time 0 with no input.</summary>
    /// <param name="model">The model; shared, read-only.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    public StreamingExactTempotron(ExactTempotron model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _segment = new PspSegment(model.Tau, model.TauS);
        var outs = model.Outputs;
        _weights = new double[model.Afferents * outs];
        _a = new double[outs];
        _b = new double[outs];
        _aAtReference = new double[outs];
        _bAtReference = new double[outs];
        _frozenAt = new double[outs];
        _crossing = new double[outs];
        _max = new double[outs];
        Reset();
    }

    /// <summary>Gets the model.</summary>
    public ExactTempotron Model => _model;

    /// <summary>Gets the stream's time.</summary>
    public double Time => _time;

    /// <summary>Gets the output that crossed first (the lowest index among equal crossing times), or -1.</summary>
    public int FirstToFire => _first;

    /// <summary>Gets how many outputs have fired.</summary>
    public int FiredCount => _firedCount;

    /// <summary>Gets, per output, its exact crossing time, or NaN if it has not fired (yet).</summary>
    public ReadOnlySpan<double> CrossingTimes => _crossing;

    /// <summary>Gets, per output that has not fired, the maximum of its trace so far (the batch's <c>vMax</c> once at the window's end); 0 at first.</summary>
    /// <remarks>For a fired output the value is its maximum before the crossing; its shunted maximum is the batch evaluation's.</remarks>
    public ReadOnlySpan<double> MaxVoltages => _max;

    /// <summary>Writes every output's voltage at <see cref="Time"/> (the shunted trace for a fired output).</summary>
    /// <param name="destination">At least <c>outputs</c> doubles.</param>
    /// <exception cref="ArgumentException">The destination is too short.</exception>
    public void CopyVoltagesTo(Span<double> destination)
    {
        var outs = _model.Outputs;
        SpanChecks.Destination(destination, nameof(destination), "[outputs]", outs);

        var now = Math.Min(_time, _model.Window);
        for (var o = 0; o < outs; o++)
        {
            var at = double.IsNaN(_frozenAt[o]) ? _reference : _frozenAt[o];
            destination[o] = _segment.Value(_a[o], _b[o], Math.Max(0, now - at));
        }
    }

    /// <summary>Returns the stream to time 0 with no input, and reads the model's weights again.</summary>
    public void Reset()
    {
        _model.WeightStore.CopyTransposed(_model.V0, _weights);
        Array.Clear(_a);
        Array.Clear(_b);
        Array.Clear(_aAtReference);
        Array.Clear(_bAtReference);
        Array.Fill(_frozenAt, double.NaN);
        Array.Fill(_crossing, double.NaN);
        Array.Clear(_max);
        _reference = 0;
        _time = 0;
        _first = -1;
        _firedCount = 0;
    }

    /// <summary>Adds the spike of <paramref name="afferent"/> at <paramref name="time"/>, after advancing to that time.</summary>
    /// <param name="afferent">The afferent, in <c>[0, N)</c>.</param>
    /// <param name="time">The spike time; finite and not before <see cref="Time"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The afferent is out of range, or the time is not finite or earlier than <see cref="Time"/>; the stream is unchanged.</exception>
    /// <exception cref="InvalidOperationException">
    /// The event would overflow an output's trace (weights near <see cref="double.MaxValue"/>), where the batch evaluation
    /// throws too; the stream has advanced to <paramref name="time"/> as <see cref="AdvanceTo"/> would, and the event was not added.
    /// </exception>
    public void Push(int afferent, double time)
    {
        if ((uint)afferent >= (uint)_model.Afferents)
        {
            ThrowHelper.IntOutOfRange(nameof(afferent), afferent, 0, _model.Afferents - 1);
        }

        ValidateTime(time);
        AdvanceCore(time);
        if (time > _model.Window)
        {
            return;
        }

        var outs = _model.Outputs;
        var row = _weights.AsSpan(afferent * outs, outs);
        for (var o = 0; o < outs; o++)
        {
            if (double.IsNaN(_frozenAt[o]) && !(double.IsFinite(_a[o] + row[o]) && double.IsFinite(_b[o] + row[o])))
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"The trace of output {o} would overflow (its weights are too large for double precision); the stream is at time {time:R} and the event was not added."));
            }
        }

        for (var o = 0; o < outs; o++)
        {
            if (double.IsNaN(_frozenAt[o]))
            {
                _a[o] += row[o];
                _b[o] += row[o];
            }
        }
    }

    /// <summary>Advances the stream's time without input; crossings up to <paramref name="time"/> (at most the window's end) are found.</summary>
    /// <param name="time">The new time; finite and not before <see cref="Time"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The time is not finite or earlier than <see cref="Time"/>; the stream is unchanged.</exception>
    public void AdvanceTo(double time)
    {
        ValidateTime(time);
        AdvanceCore(time);
    }

    private void ValidateTime(double time) => StreamTime.Validate(time, _time);

    /// <summary>The segment from the reference time to <paramref name="time"/> (capped at the window): crossings, maxima, rebase.</summary>
    private void AdvanceCore(double time)
    {
        _time = time;
        var end = Math.Min(time, _model.Window);
        var length = end - _reference;
        if (!(length > 0))
        {
            return;
        }

        var ea = Math.Exp(-length / _model.Tau);
        var eb = Math.Exp(-length / _model.TauS);
        var invTau = 1 / _model.Tau;
        var invTauS = 1 / _model.TauS;
        var theta = _model.Threshold;
        for (var o = 0; o < _a.Length; o++)
        {
            if (!double.IsNaN(_frozenAt[o]))
            {
                continue; // fired: shunted, frozen
            }

            double a = _a[o], b = _b[o];
            var f0 = a - b;
            var fL = (a * ea) - (b * eb);
            var (max, at) = _segment.Max(a, b, 0, length, f0, fL, (b * invTauS) - (a * invTau), (b * invTauS * eb) - (a * invTau * ea));
            if (max >= theta)
            {
                var s = f0 >= theta ? 0 : _segment.FirstCrossing(a, b, at, theta);
                _crossing[o] = _reference + s;
                if (_crossing[o] == _reference)
                {
                    // At the time of the inputs pushed at the reference: they are shunted, as in the batch evaluation.
                    (_a[o], _b[o]) = (_aAtReference[o], _bAtReference[o]);
                }

                _frozenAt[o] = _reference;
                _firedCount++;
                if (_first < 0 || _crossing[o] < _crossing[_first])
                {
                    _first = o;
                }

                continue;
            }

            _max[o] = Math.Max(_max[o], max);
            _a[o] = _aAtReference[o] = a * ea;
            _b[o] = _bAtReference[o] = b * eb;
        }

        _reference = end;
    }
}
