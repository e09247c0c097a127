namespace TimingBased.Neurons;

/// <summary>The spans a batch operation reads and writes; each item of work touches only its own parts.</summary>
internal readonly ref struct BatchSpans
{
    public ReadOnlySpan<float> Input { get; init; }
    public ReadOnlySpan<float> Upstream { get; init; }
    public ReadOnlySpan<int> Labels { get; init; }
    public Span<float> Output { get; init; }
    public Span<float> Output2 { get; init; }
    public Span<float> Planes { get; init; }
    public Span<int> Indices { get; init; }
    public Span<double> Stats { get; init; }
}

/// <summary>One item of a batch operation (a sample, or a range of inputs).</summary>
internal delegate void BatchAction(Tempotron self, int item, int items, in BatchSpans spans, int argument);

/// <summary>
/// Runs the items of a batch operation, in order on the calling thread or in contiguous chunks on the thread
/// pool. Every item is computed by the same code either way and items never write to the same memory, so
/// results are bit-identical for every degree of parallelism. The spans are pinned for the duration of the call.
/// </summary>
internal static unsafe class ParallelBatch
{
    public static void Run(Tempotron self, int items, in BatchSpans spans, BatchAction action, int argument)
    {
        var degree = self.MaxDegreeOfParallelism;
        if (degree <= 1 || items <= 1)
        {
            for (var k = 0; k < items; k++)
            {
                action(self, k, items, spans, argument);
            }

            return;
        }

        fixed (float* input = spans.Input)
        fixed (float* upstream = spans.Upstream)
        fixed (int* labels = spans.Labels)
        fixed (float* output = spans.Output)
        fixed (float* output2 = spans.Output2)
        fixed (float* planes = spans.Planes)
        fixed (int* indices = spans.Indices)
        fixed (double* stats = spans.Stats)
        {
            var job = new Job(self, items, action, argument, Math.Min(items, degree * 4),
                [
                    ((nint)input, spans.Input.Length), ((nint)upstream, spans.Upstream.Length),
                    ((nint)labels, spans.Labels.Length), ((nint)output, spans.Output.Length),
                    ((nint)output2, spans.Output2.Length), ((nint)planes, spans.Planes.Length),
                    ((nint)indices, spans.Indices.Length), ((nint)stats, spans.Stats.Length),
                ]);
            Parallel.For(0, job.Chunks, new ParallelOptions { MaxDegreeOfParallelism = degree }, job.RunChunk);
        }
    }

    private sealed class Job(Tempotron self, int items, BatchAction action, int argument, int chunks, (nint Pointer, int Length)[] spans)
    {
        public int Chunks => chunks;

        public void RunChunk(int chunk)
        {
            var s = new BatchSpans
            {
                Input = new ReadOnlySpan<float>((void*)spans[0].Pointer, spans[0].Length),
                Upstream = new ReadOnlySpan<float>((void*)spans[1].Pointer, spans[1].Length),
                Labels = new ReadOnlySpan<int>((void*)spans[2].Pointer, spans[2].Length),
                Output = new Span<float>((void*)spans[3].Pointer, spans[3].Length),
                Output2 = new Span<float>((void*)spans[4].Pointer, spans[4].Length),
                Planes = new Span<float>((void*)spans[5].Pointer, spans[5].Length),
                Indices = new Span<int>((void*)spans[6].Pointer, spans[6].Length),
                Stats = new Span<double>((void*)spans[7].Pointer, spans[7].Length),
            };
            var start = (int)((long)items * chunk / chunks);
            var end = (int)((long)items * (chunk + 1) / chunks);
            for (var k = start; k < end; k++)
            {
                action(self, k, items, s, argument);
            }
        }
    }
}
