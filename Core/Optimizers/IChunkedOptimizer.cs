namespace TimingBased.Optimizers;

/// <summary>An optimizer whose step can run over contiguous chunks of the parameters at once (the library's own).</summary>
internal interface IChunkedOptimizer
{
    /// <summary>
    /// <see cref="IOptimizer.Step"/> over <paramref name="degreeOfParallelism"/> contiguous chunks at once: the same
    /// element-wise arithmetic, so the same bits, and still all or nothing (every chunk is checked before any is written).
    /// </summary>
    void StepInChunks(Span<float> parameters, ReadOnlySpan<float> gradient, int degreeOfParallelism);

    /// <summary>Chunks start on multiples of this many floats: whole cache lines and vectors.</summary>
    const int ChunkAlignment = 64;
}
