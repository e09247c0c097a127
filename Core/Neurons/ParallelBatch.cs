namespace TimingBased.Neurons;

/// <summary>The spans a per-sample batch operation reads and writes.</summary>
internal readonly ref struct BatchSpans
{
    public readonly ReadOnlySpan<float> Input;
    public readonly Span<float> Output;
    public readonly ReadOnlySpan<float> Upstream;
    public readonly Span<float> Output2;

    public BatchSpans(ReadOnlySpan<float> input, Span<float> output, ReadOnlySpan<float> upstream = default, Span<float> output2 = default)
    {
        Input = input;
        Output = output;
        Upstream = upstream;
        Output2 = output2;
    }
}

/// <summary>A per-sample operation: reads and writes only sample <c>b</c>'s parts of the spans.</summary>
internal delegate void SampleAction(Tempotron self, int b, in BatchSpans spans, int argument);

/// <summary>
/// Splits a batch into contiguous chunks of samples and runs them on the thread pool. Every sample is computed
/// by the same code as on one thread, and samples never write to shared memory, so results are bit-identical
/// to the sequential loop. The spans are pinned for the duration of the call.
/// </summary>
internal static unsafe class ParallelBatch
{
    public static void Run(Tempotron self, int batchSize, in BatchSpans spans, SampleAction action, int argument)
    {
        fixed (float* input = spans.Input)
        fixed (float* output = spans.Output)
        fixed (float* upstream = spans.Upstream)
        fixed (float* output2 = spans.Output2)
        {
            var job = new Job(self, batchSize, action, argument,
                (nint)input, spans.Input.Length, (nint)output, spans.Output.Length,
                (nint)upstream, spans.Upstream.Length, (nint)output2, spans.Output2.Length);
            var degree = self.MaxDegreeOfParallelism;
            Parallel.For(0, Math.Min(batchSize, degree * 4), new ParallelOptions { MaxDegreeOfParallelism = degree }, job.RunChunk);
        }
    }

    private sealed class Job(
        Tempotron self, int batchSize, SampleAction action, int argument,
        nint input, int inputLength, nint output, int outputLength,
        nint upstream, int upstreamLength, nint output2, int output2Length)
    {
        private readonly int _chunks = Math.Min(batchSize, self.MaxDegreeOfParallelism * 4);

        public void RunChunk(int chunk)
        {
            var spans = new BatchSpans(
                new ReadOnlySpan<float>((void*)input, inputLength),
                new Span<float>((void*)output, outputLength),
                new ReadOnlySpan<float>((void*)upstream, upstreamLength),
                new Span<float>((void*)output2, output2Length));
            var start = (int)((long)batchSize * chunk / _chunks);
            var end = (int)((long)batchSize * (chunk + 1) / _chunks);
            for (var b = start; b < end; b++)
            {
                action(self, b, spans, argument);
            }
        }
    }
}
