using System.Runtime.CompilerServices;
using TimingBased.Internal;

namespace TimingBased.Neurons;

/// <summary>
/// The spans a batch operation reads and writes, each named for what it holds; each item of work touches only its
/// own parts. Forward calls use <see cref="Input"/> and <see cref="Destination"/> (and the recording spans); the backward uses the rest.
/// </summary>
/// <remarks>A threaded <see cref="ParallelBatch.Run"/> pins each member by name: a new member must be pinned there too.</remarks>
internal readonly ref struct BatchSpans
{
    /// <summary>Input spike times, <c>[batch, in]</c>.</summary>
    public ReadOnlySpan<float> Input { get; init; }

    /// <summary>The upstream gradient (<c>[batch, out]</c> or <c>[batch, out, T]</c>), or empty for a loss.</summary>
    public ReadOnlySpan<float> Upstream { get; init; }

    /// <summary>Class labels, <c>[batch]</c>, for a loss.</summary>
    public ReadOnlySpan<int> Labels { get; init; }

    /// <summary>A forward call's destination: <c>[batch, out]</c>, or <c>[batch, out, T]</c> for voltages.</summary>
    public Span<float> Destination { get; init; }

    /// <summary>The backward's input gradient, <c>[batch, in]</c> (empty to skip).</summary>
    public Span<float> InputGradient { get; init; }

    /// <summary>The weight gradient in the internal layout <c>[in, outStride]</c> (empty to skip).</summary>
    public Span<float> WeightGradient { get; init; }

    /// <summary>
    /// The caller's weight gradient in the public layout <c>[out, in]</c> (a public backward), or empty: phase 2 then
    /// sums each block in scratch and copies it there, instead of into <see cref="WeightGradient"/>.
    /// </summary>
    public Span<float> PublicWeightGradient { get; init; }

    /// <summary>
    /// With <see cref="PublicWeightGradient"/>: per output, 1 when some sample's upstream gradient for it is not zero, 0
    /// when its weight-gradient row is +0 throughout (written as zeros, not transposed); empty when every output may be live.
    /// </summary>
    public Span<int> LiveOutputs { get; init; }

    /// <summary>Per sample, the four backward planes <c>ga, gb, gk, gs</c>, each <c>[T, outStride]</c>.</summary>
    public Span<float> BackwardPlanes { get; init; }

    /// <summary>Per sample, a spike-list block (see <c>Tempotron.SpikeListBlock</c>).</summary>
    public Span<int> SpikeLists { get; init; }

    /// <summary>
    /// Per sample, a voltage plane <c>[T, outStride]</c> a recording forward keeps (a tape's, or the backward's own), of
    /// which only the column tiles in <see cref="StoredTiles"/> hold voltages; empty when the forward keeps none.
    /// </summary>
    public Span<float> Voltages { get; init; }

    /// <summary>With <see cref="Voltages"/>: per sample, the maximum voltage of each output over time, <c>[batch, outStride]</c>.</summary>
    public Span<float> Peaks { get; init; }

    /// <summary>With <see cref="Voltages"/>: per sample, the first step of each output's maximum, <c>[batch, outStride]</c>.</summary>
    public Span<int> PeakSteps { get; init; }

    /// <summary>
    /// With <see cref="Voltages"/>: per sample, which 16-float column tiles of its plane hold voltages (one bit per tile;
    /// -1: the whole plane). A backward that needs a column of another tile computes that tile again from the sample's
    /// spike list, bit for bit as the forward did, and sets its bit.
    /// </summary>
    public Span<int> StoredTiles { get; init; }

    /// <summary>Per sample, its share of the loss.</summary>
    public Span<double> SampleLoss { get; init; }

    /// <summary>Per sample, 1 if the loss's classification of it is correct, else 0.</summary>
    public Span<int> Correct { get; init; }

    /// <summary>
    /// Per phase-2 range (<c>[2, ranges]</c>): the internal index of its first non-finite gradient element or -1, then
    /// the bits of its largest <c>|dW|</c>.
    /// </summary>
    public Span<int> RangeResults { get; init; }

    /// <summary>For a backward from events: per sample, a dense row written only for a pattern that needs one, <c>[batch, in]</c>.</summary>
    public Span<float> EventRows { get; init; }

    /// <summary>
    /// One int, or empty: where parallel workers record the smallest flat index (<c>b * in + i</c>) of a NaN input
    /// instead of throwing (workers must not throw); <c>int.MaxValue</c> while there is none. Empty: throw at once.
    /// </summary>
    public Span<int> NaNAt { get; init; }
}

/// <summary>One item of a batch operation (a sample, or a range of inputs), with an argument of the operation's choosing.</summary>
internal delegate void BatchAction<TArgument>(Tempotron self, int item, int items, in BatchSpans spans, TArgument argument);

/// <summary>
/// Runs the items of a batch operation, in order on the calling thread or in contiguous chunks on the calling
/// thread and the <see cref="WorkerPool"/>. Every item is computed by the same code either way and items never write to the same memory, so
/// results are bit-identical for every degree of parallelism.
/// </summary>
/// <remarks>
/// A threaded call pins every span of the <see cref="BatchSpans"/> and hands the workers the address of the caller's
/// <see cref="BatchSpans"/> itself: <see cref="WorkerPool.For"/> returns only once every chunk is done, so the caller's
/// stack frame outlives each worker's reads, and no span's memory can move while a worker holds a copy of it.
/// </remarks>
internal static unsafe class ParallelBatch
{
    /// <summary>Chunks per thread: enough to even out items of unequal cost, few enough to keep dispatch cheap.</summary>
    private const int ChunksPerThread = 16;

    public static void Run<TArgument>(Tempotron self, int items, in BatchSpans spans, BatchAction<TArgument> action, TArgument argument)
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

        fixed (float* input = spans.Input, destination = spans.Destination, inputGradient = spans.InputGradient)
        fixed (float* upstream = spans.Upstream, weightGradient = spans.WeightGradient, publicGradient = spans.PublicWeightGradient)
        fixed (float* planes = spans.BackwardPlanes, voltages = spans.Voltages, peaks = spans.Peaks, eventRows = spans.EventRows)
        fixed (int* labels = spans.Labels, liveOutputs = spans.LiveOutputs, lists = spans.SpikeLists, peakSteps = spans.PeakSteps)
        fixed (int* storedTiles = spans.StoredTiles, correct = spans.Correct, rangeResults = spans.RangeResults, nanAt = spans.NaNAt)
        fixed (double* loss = spans.SampleLoss)
        {
            var chunks = Math.Min(items, degree * ChunksPerThread);
            var at = (nint)Unsafe.AsPointer(ref Unsafe.AsRef(in spans));
            WorkerPool.For(chunks, degree, new Job<TArgument>(self, items, action, argument, chunks, at));
        }
    }

    private sealed class Job<TArgument>(Tempotron self, int items, BatchAction<TArgument> action, TArgument argument, int chunks, nint spans) : IChunkBody
    {
        public void Run(int chunk)
        {
            ref readonly var s = ref Unsafe.AsRef<BatchSpans>((void*)spans);
            var start = (int)((long)items * chunk / chunks);
            var end = (int)((long)items * (chunk + 1) / chunks);
            for (var k = start; k < end; k++)
            {
                action(self, k, items, s, argument);
            }
        }
    }
}
