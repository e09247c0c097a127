namespace TimingBased.Internal;

/// <summary>
/// One pass over <c>[0, length)</c> split into contiguous chunks on the <see cref="WorkerPool"/>: the optimizers' threaded step and
/// the weight-layout transposes (work that is element-wise, so the split changes no result).
/// </summary>
internal static class ParallelChunks
{
    /// <summary>The smallest parameter vector worth splitting: below it a pass is shorter than waking a second thread.</summary>
    public const int MinimumLength = 1 << 16;

    /// <summary>Whether <paramref name="length"/> parameters are worth splitting over <paramref name="degree"/> threads.</summary>
    public static bool Worthwhile(int length, int degree) => degree > 1 && length >= MinimumLength;

    /// <summary>
    /// Runs <paramref name="pass"/><c>(start, length)</c> on <paramref name="degree"/> contiguous chunks of
    /// <c>[0, <paramref name="length"/>)</c> in parallel, each starting on a multiple of <paramref name="alignment"/> (a
    /// power of two); returns whether every chunk's pass returned true. Allocates the same small amount per call (the
    /// delegate's closure and the loop's state), whatever the length.
    /// </summary>
    public static bool All(int length, int degree, int alignment, Func<int, int, bool> pass)
    {
        var body = new Passes(length, degree, alignment, pass);
        WorkerPool.For(degree, degree, body);
        return !body.Failed;
    }

    /// <summary>The chunks of one <see cref="All"/> call.</summary>
    private sealed class Passes(int length, int chunks, int alignment, Func<int, int, bool> pass) : IChunkBody
    {
        private int _failed;

        public bool Failed => Volatile.Read(ref _failed) != 0;

        public void Run(int chunk)
        {
            var start = Start(length, chunk, chunks, alignment);
            var end = Start(length, chunk + 1, chunks, alignment);
            if (!pass(start, end - start))
            {
                Volatile.Write(ref _failed, 1);
            }
        }
    }

    private static int Start(int length, int chunk, int chunks, int alignment) =>
        chunk == chunks ? length : (int)((long)length * chunk / chunks) & ~(alignment - 1);
}
