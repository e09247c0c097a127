using TimingBased.Internal;
using TimingBased.Neurons;

namespace TimingBased.Streaming;

/// <summary>One output spike of a stream: which output, and its exact time.</summary>
/// <param name="Output">The output neuron.</param>
/// <param name="Time">The spike's time.</param>
public readonly record struct OutputSpike(int Output, double Time);

/// <summary>
/// Runs a <see cref="MultiSpikeTempotron"/> on a live stream of input events: each output spike is found, at its exact
/// time, as soon as the stream's time passes it; for counting occurrences of a pattern in a stream.
/// </summary>
/// <remarks>
/// <para>
/// Events come as <see cref="Push"/><c>(afferent, time)</c> with non-decreasing times. Advancing to a time walks, for
/// every output, the one segment of trace since the last event (the batch model's walk: the first point of each
/// stretch with <c>V &gt;= theta</c> is a spike, followed by the reset) and rebases the sums; the spikes found are
/// then in <see cref="NewSpikes"/>, in time order, until the next call. Per event: two exponentials shared by all
/// outputs, <c>O(outputs)</c> arithmetic and two exponentials per output spike; nothing is allocated after the
/// buffer of new spikes has grown to the most one call finds. Spikes are generated inside <c>[0, Window]</c>; events
/// after the window are ignored. The threshold is the model's.
/// </para>
/// <para>
/// After <see cref="AdvanceTo"/>(Window) the spikes equal the batch model's (<see cref="MultiSpikeTempotron.Spikes(Events.SpikePattern, int, Span{double})"/>)
/// up to the rounding of the per-segment exponentials (the batch computes them vectorised, the stream with
/// <see cref="Math.Exp"/>).
/// </para>
/// <para>
/// Thread safety: a stream is single-threaded; any number of streams may share one model. The stream copies the
/// weights when it is created and on <see cref="Reset"/>.
/// </para>
/// </remarks>
public sealed class StreamingMultiSpikeTempotron
{
    private readonly MultiSpikeTempotron _model;
    private readonly PspSegment _segment;
    private readonly double[] _weights; // [afferents, outputs], times V0
    private readonly double[] _a; // per output: the sums at _reference
    private readonly double[] _b;
    private readonly int[] _counts;
    private readonly double[] _aNext; // per output: the sums at the end of the segment being walked, before they are committed
    private readonly double[] _bNext;
    private readonly int[] _countNext;
    private OutputSpike[] _new = new OutputSpike[16];
    private int _newCount;
    private double[] _times = new double[16];
    private double _reference;
    private double _time;

    /// <summary>Creates a stream over <paramref name="model"/>, at time 0 with no input.</summary>
    /// <param name="model">The model; shared, read-only.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    public StreamingMultiSpikeTempotron(MultiSpikeTempotron model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _segment = new PspSegment(model.Tau, model.TauS);
        _weights = new double[model.Afferents * model.Outputs];
        _a = new double[model.Outputs];
        _b = new double[model.Outputs];
        _counts = new int[model.Outputs];
        _aNext = new double[model.Outputs];
        _bNext = new double[model.Outputs];
        _countNext = new int[model.Outputs];
        Reset();
    }

    /// <summary>Gets the model.</summary>
    public MultiSpikeTempotron Model => _model;

    /// <summary>Gets the stream's time.</summary>
    public double Time => _time;

    /// <summary>Gets each output's number of spikes so far.</summary>
    public ReadOnlySpan<int> Counts => _counts;

    /// <summary>Gets the spikes the last <see cref="Push"/> or <see cref="AdvanceTo"/> found, in time order (valid until the next call).</summary>
    public ReadOnlySpan<OutputSpike> NewSpikes => _new.AsSpan(0, _newCount);

    /// <summary>Returns the stream to time 0 with no input and no spikes, and reads the model's weights again.</summary>
    public void Reset()
    {
        _model.WeightStore.CopyTransposed(_model.V0, _weights);
        Array.Clear(_a);
        Array.Clear(_b);
        Array.Clear(_counts);
        _newCount = 0;
        _reference = 0;
        _time = 0;
    }

    /// <summary>Advances to <paramref name="time"/> (finding the spikes before it), then adds the spike of <paramref name="afferent"/>.</summary>
    /// <param name="afferent">The afferent, in <c>[0, N)</c>.</param>
    /// <param name="time">The spike time; finite and not before <see cref="Time"/>.</param>
    /// <returns>The number of output spikes found while advancing (in <see cref="NewSpikes"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException">The afferent is out of range, or the time is not finite or earlier than <see cref="Time"/>; the stream is unchanged.</exception>
    /// <exception cref="InvalidOperationException">
    /// The event would overflow an output's trace (weights near <see cref="double.MaxValue"/>), where the batch model throws
    /// too: the stream has advanced to <paramref name="time"/> as <see cref="AdvanceTo"/> would, and the event was not added.
    /// Or advancing would emit more than <c>2^22</c> spikes in one output: the stream is unchanged, as <see cref="AdvanceTo"/> says.
    /// </exception>
    public int Push(int afferent, double time)
    {
        if ((uint)afferent >= (uint)_model.Afferents)
        {
            ThrowHelper.IntOutOfRange(nameof(afferent), afferent, 0, _model.Afferents - 1);
        }

        StreamTime.Validate(time, _time);
        var found = AdvanceCore(time);
        if (time > _model.Window)
        {
            return found;
        }

        var outs = _model.Outputs;
        var row = _weights.AsSpan(afferent * outs, outs);
        for (var o = 0; o < outs; o++)
        {
            if (!(double.IsFinite(_a[o] + row[o]) && double.IsFinite(_b[o] + row[o])))
            {
                throw new InvalidOperationException($"The trace of output {o} would overflow (its weights are too large for double precision); the event was not added.");
            }
        }

        for (var o = 0; o < outs; o++)
        {
            _a[o] += row[o];
            _b[o] += row[o];
        }

        return found;
    }

    /// <summary>Advances the stream's time without input; spikes up to <paramref name="time"/> (at most the window's end) are found.</summary>
    /// <param name="time">The new time; finite and not before <see cref="Time"/>.</param>
    /// <returns>The number of output spikes found (in <see cref="NewSpikes"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException">The time is not finite or earlier than <see cref="Time"/>; the stream is unchanged.</exception>
    /// <exception cref="InvalidOperationException">An output would emit more than <c>2^22</c> spikes in the segment (weights far above the threshold); the stream's time, sums and counts are unchanged and <see cref="NewSpikes"/> is empty.</exception>
    public int AdvanceTo(double time)
    {
        StreamTime.Validate(time, _time);
        return AdvanceCore(time);
    }

    /// <summary>The segment from the reference time to <paramref name="time"/> (capped at the window) for every output: spikes, then rebase.</summary>
    private int AdvanceCore(double time)
    {
        _newCount = 0;
        var end = Math.Min(time, _model.Window);
        var length = end - _reference;
        if (!(length > 0))
        {
            _time = time;
            return 0;
        }

        var ea = Math.Exp(-length / _model.Tau);
        var eb = Math.Exp(-length / _model.TauS);
        var theta = _model.Threshold;

        // Every output's segment into the staging sums first: a walk that throws (more than SpikeWalk.MaxSpikes spikes)
        // leaves the sums, the counts and the time as they were.
        try
        {
            WalkEveryOutput(length, ea, eb, theta);
        }
        catch (InvalidOperationException)
        {
            _newCount = 0;
            throw;
        }

        _aNext.CopyTo(_a, 0);
        _bNext.CopyTo(_b, 0);
        for (var o = 0; o < _counts.Length; o++)
        {
            _counts[o] += _countNext[o];
        }

        _time = time;
        _reference = end;
        if (_newCount > 1)
        {
            _new.AsSpan(0, _newCount).Sort(static (x, y) => x.Time != y.Time ? x.Time.CompareTo(y.Time) : x.Output.CompareTo(y.Output));
        }

        return _newCount;
    }

    /// <summary>Walks every output's segment of <paramref name="length"/> into the staging sums and counts, appending the spikes found.</summary>
    private void WalkEveryOutput(double length, double ea, double eb, double theta)
    {
        for (var o = 0; o < _a.Length; o++)
        {
            // If this output's spikes outgrow the buffer, walk it again from the same sums with more room.
            while (true)
            {
                (_aNext[o], _bNext[o]) = (_a[o], _b[o]);
                _countNext[o] = SpikeWalk.Segment(_segment, ref _aNext[o], ref _bNext[o], _reference, length, ea, eb, theta, _times, [], 0, int.MaxValue);
                if (_countNext[o] <= _times.Length)
                {
                    break;
                }

                _times = new double[Math.Max(_countNext[o], 2 * _times.Length)];
            }

            for (var j = 0; j < _countNext[o]; j++)
            {
                Append(new OutputSpike(o, _times[j]));
            }
        }
    }

    private void Append(OutputSpike spike)
    {
        if (_newCount == _new.Length)
        {
            Array.Resize(ref _new, 2 * _new.Length);
        }

        _new[_newCount++] = spike;
    }
}
