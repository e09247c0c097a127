using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using TimingBased.Internal;
using TimingBased.Neurons;
using TimingBased.Neurons.Kernels;

namespace TimingBased.Streaming;

/// <summary>
/// Evaluates one pattern of a grid <see cref="Tempotron"/> event by event, and reports each output the moment its
/// voltage first reaches the threshold on the grid: the first step <c>t</c> with <c>V[t] &gt;= vThreshold</c>.
/// </summary>
/// <remarks>
/// <para>
/// Events come as <see cref="Push"/><c>(afferent, time)</c> with non-decreasing times. A spike at <c>s</c> adds its
/// weight row at step <c>c = ceil(s)</c> (scaled by <c>exp(-(c - s)/tau)</c> and <c>exp(-(c - s)/tauS)</c> for a
/// fractional time), and the grid recurrence advances one step at a time: <c>V[t]</c> is final once the stream's time
/// reaches <c>t</c> (later spikes cannot change it: a spike at <c>t</c> adds <c>K(0) = 0</c>). So after any call the
/// outputs that have fired and their crossing steps are exact. Per event the cost is one weight row
/// (<c>O(out)</c>, whole vectors over the outputs); per grid step, one recurrence step; nothing depends on
/// <c>in</c>, and nothing is allocated after construction.
/// </para>
/// <para>
/// After <see cref="AdvanceTo"/>(T) the stream's voltages, maxima and crossings equal the batch evaluation of the same
/// spikes up to float rounding: the stream sums each step's contributions in arrival order, the batch in its own
/// order over four accumulator banks (both then run the same double-precision recurrence).
/// </para>
/// <para>
/// Thread safety: a stream is single-threaded; any number of streams may share one model. A stream reads the model's
/// weights as they are at each event (do not change them while streams run): open streams on a frozen model, such as
/// <c>ModelSlot.Current.Model</c>, and each keeps that model for its life while later streams get the next one.
/// </para>
/// </remarks>
public sealed class StreamingTempotron
{
    private readonly Tempotron _model;
    private readonly int _os;
    private bool _vector; // whether the row operations take their Vector<T> path (decided by Path)
    private KernelPath _path = KernelPaths.Best;
    private readonly PspDecay _decay;
    private readonly float _threshold;
    private readonly double[] _a; // recurrence state after step _step, [outStride]
    private readonly double[] _b;
    private readonly float[] _pending; // sum of w exp(-d/tau) for step _step + 1
    private readonly float[] _pendingDelta; // sum of w (exp(-d/tauS) - exp(-d/tau)) for step _step + 1
    private readonly float[] _v; // V[_step]
    private readonly float[] _max;
    private readonly int[] _argMax;
    private readonly double[] _crossing;
    private bool _anyPendingDelta;
    private int _step;
    private double _time;
    private int _first;

    /// <summary>Creates a stream over <paramref name="model"/>, at time 0 with no input.</summary>
    /// <param name="model">The model; shared, read-only.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    public StreamingTempotron(Tempotron model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _os = model.OutStride;
        _vector = RowOps.UseVector(_path, _os);
        _decay = PspDecay.Of(model.Tau, model.TauS, model.V0);
        _threshold = (float)model.VThreshold;
        _a = new double[_os];
        _b = new double[_os];
        _pending = new float[_os];
        _pendingDelta = new float[_os];
        _v = new float[_os];
        _max = new float[_os];
        _argMax = new int[_os];
        _crossing = new double[model.OutFeatures];
        Reset();
    }

    /// <summary>Gets the model.</summary>
    public Tempotron Model => _model;

    /// <summary>
    /// Gets or sets the widest instruction-set path the stream's row operations may take (default
    /// <see cref="KernelPaths.Best"/>); tests set each supported path in turn. Every path gives the same bits.
    /// </summary>
    internal KernelPath Path
    {
        get => _path;
        set
        {
            _path = value;
            _vector = RowOps.UseVector(value, _os);
        }
    }

    /// <summary>Gets the stream's time: every grid step up to it is final.</summary>
    public double Time => _time;

    /// <summary>Gets the output that reached the threshold first (the lowest index among those at the same step), or -1.</summary>
    public int FirstToFire => _first;

    /// <summary>Gets, per output, the grid step at which it first reached the threshold, or NaN if it has not (yet).</summary>
    public ReadOnlySpan<double> CrossingTimes => _crossing;

    /// <summary>Gets, per output, the maximum of <c>V</c> over the final steps so far (the batch's <c>vMax</c> once at <c>T</c>).</summary>
    public ReadOnlySpan<float> MaxVoltages => _max.AsSpan(0, _model.OutFeatures);

    /// <summary>Gets, per output, the voltage at the last final step (<c>floor(Time)</c>, at most <c>T - 1</c>); zeros before step 0.</summary>
    public ReadOnlySpan<float> Voltages => _v.AsSpan(0, _model.OutFeatures);

    /// <summary>Returns the stream to time 0 with no input.</summary>
    public void Reset()
    {
        Array.Clear(_a);
        Array.Clear(_b);
        Array.Clear(_pending);
        Array.Clear(_pendingDelta);
        Array.Clear(_v);
        Array.Fill(_max, float.NegativeInfinity);
        Array.Clear(_argMax);
        Array.Fill(_crossing, double.NaN);
        _anyPendingDelta = false;
        _step = -1;
        _time = 0;
        _first = -1;
    }

    /// <summary>Adds the spike of <paramref name="afferent"/> at <paramref name="time"/>, after advancing to that time.</summary>
    /// <param name="afferent">The input, in <c>[0, in)</c>.</param>
    /// <param name="time">The spike time; finite and not before <see cref="Time"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The afferent is out of range, or the time is not finite or earlier than <see cref="Time"/>; the stream is unchanged.</exception>
    public void Push(int afferent, double time)
    {
        if ((uint)afferent >= (uint)_model.InFeatures)
        {
            ThrowHelper.IntOutOfRange(nameof(afferent), afferent, 0, _model.InFeatures - 1);
        }

        ValidateTime(time);
        AdvanceCore(time);
        var s = (float)time; // the grid model reads spike times as float32
        var c = MathF.Ceiling(s);
        if (c >= _model.T)
        {
            return; // its PSP starts after the window
        }

        var row = _model.Parameters.Slice(afferent * _os, _os);
        var d = c - s;
        if ((int)c == _step)
        {
            // An integer time at a step already final: K(0) = 0 leaves V[step] as it is, but the state carries it on.
            AddToState(row);
            return;
        }

        if (d == 0f)
        {
            RowOps.Add(_vector, ref MemoryMarshal.GetArrayDataReference(_pending), ref MemoryMarshal.GetReference(row), _os);
            return;
        }

        _model.AddFractionalSpike(_vector, row, _pending, _pendingDelta, d);
        _anyPendingDelta = true;
    }

    /// <summary><c>A += w</c>, <c>B += w</c> over the outputs: the row widened to double, whole vectors where they fit.</summary>
    private void AddToState(ReadOnlySpan<float> row)
    {
        var o = 0;
        if (KernelPaths.AllowsVectorT(_path))
        {
            var a = MemoryMarshal.Cast<double, Vector<double>>(_a.AsSpan());
            var b = MemoryMarshal.Cast<double, Vector<double>>(_b.AsSpan());
            for (var v = 0; o + Vector<float>.Count <= row.Length; o += Vector<float>.Count, v += 2)
            {
                Vector.Widen(new Vector<float>(row[o..]), out var lo, out var hi);
                a[v] += lo;
                a[v + 1] += hi;
                b[v] += lo;
                b[v + 1] += hi;
            }
        }

        for (; o < row.Length; o++)
        {
            _a[o] += row[o];
            _b[o] += row[o];
        }
    }

    /// <summary>Advances the stream's time without input: every grid step up to <paramref name="time"/> becomes final.</summary>
    /// <param name="time">The new time; finite and not before <see cref="Time"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The time is not finite or earlier than <see cref="Time"/>; the stream is unchanged.</exception>
    public void AdvanceTo(double time)
    {
        ValidateTime(time);
        AdvanceCore(time);
    }

    private void ValidateTime(double time) => StreamTime.Validate(time, _time);

    private void AdvanceCore(double time)
    {
        _time = time;
        var last = (int)Math.Min(Math.Floor(Math.Min(time, int.MaxValue)), _model.T - 1);
        var outs = _model.OutFeatures;
        while (_step < last)
        {
            _step++;
            Recurrence.Step(_vector, _pending, _anyPendingDelta ? _pendingDelta : default, _a, _b, _decay, _v);
            for (var o = 0; o < _os; o++)
            {
                if (_v[o] > _max[o])
                {
                    _max[o] = _v[o];
                    _argMax[o] = _step;
                }
            }

            Array.Clear(_pending);
            if (_anyPendingDelta)
            {
                Array.Clear(_pendingDelta);
                _anyPendingDelta = false;
            }

            for (var o = 0; o < outs; o++)
            {
                if (double.IsNaN(_crossing[o]) && _v[o] >= _threshold)
                {
                    _crossing[o] = _step;
                    if (_first < 0)
                    {
                        _first = o;
                    }
                }
            }
        }
    }
}
