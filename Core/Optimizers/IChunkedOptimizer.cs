namespace TimingBased.Optimizers;

/// <summary>An optimizer whose step can run over contiguous chunks of the parameters at once (the library's own).</summary>
internal interface IChunkedOptimizer
{
    /// <summary>
    /// <see cref="IOptimizer.Step"/> over <paramref name="degreeOfParallelism"/> contiguous chunks at once (the same
    /// element-wise arithmetic, so the same bits, and still all or nothing: every chunk is checked before any is
    /// written), given upper bounds on the magnitudes of the parameters and of the (finite) gradient
    /// (<see cref="UpdateBounds.Unknown"/> where there is none): when they and the optimizer's bounds on its own state
    /// prove every new value finite (see <see cref="UpdateBounds"/>), the checking pass is skipped. Returns an upper
    /// bound on the new parameters' magnitudes (the exact maximum when the checking pass ran), for the next step.
    /// </summary>
    double StepBounded(Span<float> parameters, ReadOnlySpan<float> gradient, int degreeOfParallelism, double maxAbsParameter, double maxAbsGradient);

    /// <summary>
    /// Begins a step whose update the caller writes chunk by chunk (<see cref="CommitChunk"/>) as each chunk of the
    /// gradient is summed, if the bounds (as for <see cref="StepBounded"/>; the gradient's covers every element the
    /// caller will pass) prove every new value finite: then the optimizer's own bookkeeping (step count, state
    /// bounds) is already that of the finished step, and the caller must commit every chunk exactly once. Returns false,
    /// changing nothing, when they do not; the caller then steps as usual.
    /// </summary>
    bool TryBeginChunkedStep(int length, double maxAbsParameter, double maxAbsGradient, out double parameterBound);

    /// <summary>
    /// Writes the begun step's update of <c>parameters[start ..]</c> (<paramref name="parameters"/> and
    /// <paramref name="gradient"/> are that chunk): the same arithmetic as <see cref="StepBounded"/>, so the same bits.
    /// Disjoint chunks may be committed from several threads at once.
    /// </summary>
    void CommitChunk(Span<float> parameters, ReadOnlySpan<float> gradient, int start);

    /// <summary>Chunks start on multiples of this many floats: whole cache lines and vectors.</summary>
    const int ChunkAlignment = 64;
}
