using TimingBased.Events;
using TimingBased.Optimizers;

namespace TimingBased.Neurons;

/// <summary>
/// What a backward computes, and from what: the typed arguments of <c>Tempotron.BackwardCore</c>. An empty span means
/// "not asked for" (no input gradient, no internal gradient, ...).
/// </summary>
internal readonly ref struct BackwardRequest
{
    /// <summary>Creates an empty request (no optimizer bound known).</summary>
    public BackwardRequest()
    {
    }

    /// <summary>Gets the input spike times, <c>[batch, in]</c>; for events, the scratch rows filled per sample where needed.</summary>
    public ReadOnlySpan<float> Input { get; init; }

    /// <summary>Gets the batch size.</summary>
    public int BatchSize { get; init; }

    /// <summary>Gets what the upstream gradient is: of <c>vMax</c>, of the spike times, of the voltages, or a loss.</summary>
    public Tempotron.UpstreamKind Kind { get; init; }

    /// <summary>Gets the upstream gradient (<c>[batch, out]</c> or <c>[batch, out, T]</c>), or empty for a loss.</summary>
    public ReadOnlySpan<float> Upstream { get; init; }

    /// <summary>Gets the class labels, <c>[batch]</c>, for a loss.</summary>
    public ReadOnlySpan<int> Labels { get; init; }

    /// <summary>Gets where the weight gradient goes in the internal layout <c>[in, outStride]</c>, or empty.</summary>
    public Span<float> InternalGradient { get; init; }

    /// <summary>Gets where the weight gradient goes in the public layout <c>[out, in]</c>, or empty.</summary>
    public Span<float> PublicGradient { get; init; }

    /// <summary>Gets where the input gradient <c>[batch, in]</c> goes, or empty.</summary>
    public Span<float> InputGradient { get; init; }

    /// <summary>Gets the events the samples' spike lists come from, or null for dense input.</summary>
    public SpikeEvents? Events { get; init; }

    /// <summary>Gets, with <see cref="Events"/>, the scratch rows a sample is laid out in when its list cannot come straight from its pattern.</summary>
    public Span<float> EventRows { get; init; }

    /// <summary>Gets the tape whose forward this backward reads, or null.</summary>
    public TempotronTape? Tape { get; init; }

    /// <summary>Gets the optimizer whose update phase 2 may write block by block (a training step), or null.</summary>
    public IChunkedOptimizer? Update { get; init; }

    /// <summary>Gets a bound on the weights' magnitudes, or <see cref="UpdateBounds.Unknown"/>.</summary>
    public double MaxAbsParameter { get; init; } = UpdateBounds.Unknown;
}
