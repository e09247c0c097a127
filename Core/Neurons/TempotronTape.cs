namespace TimingBased.Neurons;

/// <summary>
/// What a <see cref="Tempotron"/> forward saves for the backward of the same batch, as autograd saves tensors: per
/// sample, the list of spiking inputs with their times, each output's peak voltage and its step, and the voltages of the
/// outputs the backward may need (the rest it computes again when asked: see <see cref="Tempotron.SpikeTimesBackward(TempotronTape, ReadOnlySpan{float}, Span{float}, Span{float})"/>). A backward from a tape does not run the
/// forward again (the plain backward calls recompute it, which is about half of their cost).
/// </summary>
/// <remarks>
/// <para>
/// Use: <c>model.SpikeTimes(tape, x, batch, s)</c> (or <c>MaxVoltage</c>), then
/// <c>model.SpikeTimesBackward(tape, upstream, dW, dX)</c> (or <c>MaxVoltageBackward</c>). A recording serves one
/// backward (the backward reuses its memory); the next forward records again. The backward throws
/// <see cref="InvalidOperationException"/> if the tape holds no recording, was recorded by another model, was already
/// used, or the model's weights changed since the forward (<see cref="Tempotron.SetWeights"/>, an optimizer step).
/// </para>
/// <para>
/// Memory: the tape grows on the first forward to <c>batch * (2 (in + 16) + 6)</c> ints of spike lists,
/// <c>batch * T * outStride</c> floats of voltage planes (of which a wide layer's forward writes only the 16-output
/// column tiles holding an output that fired), <c>batch * outStride</c> floats and <c>batch * (outStride + 1)</c> ints of
/// peaks and stored-tile masks, and <c>batch * in</c> floats for samples whose times are not all
/// integers (a copy of their input rows, so the backward never reads the caller's input); later forwards of that size
/// or smaller allocate nothing. A tape may be reused across models and batch sizes (it grows as needed).
/// Not thread-safe: one call at a time per tape. Different tapes may be used on different threads.
/// </para>
/// </remarks>
public sealed class TempotronTape
{
    private int[] _lists = [];
    private float[] _voltages = [];
    private float[] _peaks = [];
    private int[] _peakSteps = [];
    private int[] _storedTiles = [];
    private float[] _rows = [];
    private Tempotron? _owner;
    private long _weightsVersion;

    /// <summary>Gets the batch size of the recorded forward, or 0 when the tape holds no unused recording.</summary>
    public int BatchSize { get; private set; }

    /// <summary>Gets whether the tape holds a recording that no backward has used yet.</summary>
    public bool IsRecorded => BatchSize > 0;

    /// <summary>Per sample, a spike-list block (see <c>Tempotron.SpikeListBlock</c>).</summary>
    internal Span<int> Lists => _lists;

    /// <summary>Per sample, the voltage plane <c>[T, outStride]</c>, in the column tiles <see cref="StoredTiles"/> names.</summary>
    internal Span<float> Voltages => _voltages;

    /// <summary>Per sample, each output's maximum voltage over time, <c>[outStride]</c>.</summary>
    internal Span<float> Peaks => _peaks;

    /// <summary>Per sample, the first step of each output's maximum, <c>[outStride]</c>.</summary>
    internal Span<int> PeakSteps => _peakSteps;

    /// <summary>Per sample, which column tiles of its voltage plane hold voltages (see <c>BatchSpans.StoredTiles</c>).</summary>
    internal Span<int> StoredTiles => _storedTiles;

    /// <summary>Per sample, <c>[in]</c>: a copy of the input row of a sample with a non-integer time; other rows unused.</summary>
    internal Span<float> Rows => _rows;

    /// <summary>
    /// Clears any recording and makes room for a forward of <paramref name="batchSize"/> samples of <paramref name="model"/>
    /// (<paramref name="listLength"/> ints, <paramref name="voltageLength"/> floats and <paramref name="peakLength"/> floats and
    /// ints plus one int per sample). Precondition: the model's backward-batch check passed for this batch; it bounds
    /// every size below the array limit.
    /// </summary>
    internal void Prepare(Tempotron model, int batchSize, int listLength, int voltageLength, int peakLength)
    {
        BatchSize = 0;
        _owner = null;
        var lists = batchSize * listLength;
        var voltages = batchSize * voltageLength;
        var rows = batchSize * model.InFeatures;
        if (_lists.Length < lists)
        {
            _lists = new int[lists];
        }

        if (_voltages.Length < voltages)
        {
            _voltages = new float[voltages];
        }

        if (_peaks.Length < batchSize * peakLength)
        {
            _peaks = new float[batchSize * peakLength];
            _peakSteps = new int[batchSize * peakLength];
        }

        if (_storedTiles.Length < batchSize)
        {
            _storedTiles = new int[batchSize];
        }

        if (_rows.Length < rows)
        {
            _rows = new float[rows];
        }
    }

    /// <summary>Marks a completed forward of <paramref name="batchSize"/> samples by <paramref name="model"/>.</summary>
    internal void Record(Tempotron model, int batchSize)
    {
        _owner = model;
        _weightsVersion = model.WeightsVersion;
        BatchSize = batchSize;
    }

    /// <summary>Throws unless the tape holds an unused recording by <paramref name="model"/> at its current weights; returns its batch size.</summary>
    internal int RecordedBatch(Tempotron model)
    {
        if (BatchSize == 0)
        {
            throw new InvalidOperationException("The tape holds no recording to back-propagate: run a forward with this tape first (a recording serves one backward).");
        }

        if (!ReferenceEquals(_owner, model))
        {
            throw new InvalidOperationException("The tape was recorded by another model; back-propagate through the model that ran the forward.");
        }

        if (_weightsVersion != model.WeightsVersion)
        {
            throw new InvalidOperationException("The model's weights changed after the tape's forward; run the forward again before the backward.");
        }

        return BatchSize;
    }

    /// <summary>Marks the recording used: the backward is about to overwrite parts of it.</summary>
    internal void MarkUsed() => BatchSize = 0;
}
