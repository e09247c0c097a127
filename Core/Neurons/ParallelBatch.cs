using TimingBased.Internal;

namespace TimingBased.Neurons;

/// <summary>
/// The spans a batch operation reads and writes, each named for what it holds; each item of work touches only its
/// own parts. Forward calls use <see cref="Input"/> and <see cref="Destination"/> (and the recording spans); the backward uses the rest.
/// </summary>
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
/// results are bit-identical for every degree of parallelism. The spans are pinned for the duration of the call.
/// </summary>
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

        fixed (float* input = spans.Input)
        fixed (float* upstream = spans.Upstream)
        fixed (int* labels = spans.Labels)
        fixed (float* destination = spans.Destination)
        fixed (float* inputGradient = spans.InputGradient)
        fixed (float* weightGradient = spans.WeightGradient)
        fixed (float* publicGradient = spans.PublicWeightGradient)
        fixed (int* liveOutputs = spans.LiveOutputs)
        fixed (float* planes = spans.BackwardPlanes)
        fixed (int* lists = spans.SpikeLists)
        fixed (float* voltages = spans.Voltages)
        fixed (float* peaks = spans.Peaks)
        fixed (int* peakSteps = spans.PeakSteps)
        fixed (int* storedTiles = spans.StoredTiles)
        fixed (double* loss = spans.SampleLoss)
        fixed (int* correct = spans.Correct)
        fixed (int* rangeResults = spans.RangeResults)
        fixed (float* eventRows = spans.EventRows)
        fixed (int* nanAt = spans.NaNAt)
        {
            var job = new Job<TArgument>(self, items, action, argument, Math.Min(items, degree * ChunksPerThread), new Pointers
            {
                Input = ((nint)input, spans.Input.Length),
                Upstream = ((nint)upstream, spans.Upstream.Length),
                Labels = ((nint)labels, spans.Labels.Length),
                Destination = ((nint)destination, spans.Destination.Length),
                InputGradient = ((nint)inputGradient, spans.InputGradient.Length),
                WeightGradient = ((nint)weightGradient, spans.WeightGradient.Length),
                PublicWeightGradient = ((nint)publicGradient, spans.PublicWeightGradient.Length),
                LiveOutputs = ((nint)liveOutputs, spans.LiveOutputs.Length),
                BackwardPlanes = ((nint)planes, spans.BackwardPlanes.Length),
                SpikeLists = ((nint)lists, spans.SpikeLists.Length),
                Voltages = ((nint)voltages, spans.Voltages.Length),
                Peaks = ((nint)peaks, spans.Peaks.Length),
                PeakSteps = ((nint)peakSteps, spans.PeakSteps.Length),
                StoredTiles = ((nint)storedTiles, spans.StoredTiles.Length),
                SampleLoss = ((nint)loss, spans.SampleLoss.Length),
                Correct = ((nint)correct, spans.Correct.Length),
                RangeResults = ((nint)rangeResults, spans.RangeResults.Length),
                EventRows = ((nint)eventRows, spans.EventRows.Length),
                NaNAt = ((nint)nanAt, spans.NaNAt.Length),
            });
            WorkerPool.For(job.Chunks, degree, job);
        }
    }

    /// <summary>The pinned spans as (address, length) pairs, to cross to the pool's threads.</summary>
    private sealed class Pointers
    {
        public (nint Address, int Length) Input;
        public (nint Address, int Length) Upstream;
        public (nint Address, int Length) Labels;
        public (nint Address, int Length) Destination;
        public (nint Address, int Length) InputGradient;
        public (nint Address, int Length) WeightGradient;
        public (nint Address, int Length) PublicWeightGradient;
        public (nint Address, int Length) LiveOutputs;
        public (nint Address, int Length) BackwardPlanes;
        public (nint Address, int Length) SpikeLists;
        public (nint Address, int Length) Voltages;
        public (nint Address, int Length) Peaks;
        public (nint Address, int Length) PeakSteps;
        public (nint Address, int Length) StoredTiles;
        public (nint Address, int Length) SampleLoss;
        public (nint Address, int Length) Correct;
        public (nint Address, int Length) RangeResults;
        public (nint Address, int Length) EventRows;
        public (nint Address, int Length) NaNAt;
    }

    private sealed class Job<TArgument>(Tempotron self, int items, BatchAction<TArgument> action, TArgument argument, int chunks, Pointers p) : IChunkBody
    {
        public int Chunks => chunks;

        public void Run(int chunk)
        {
            var s = new BatchSpans
            {
                Input = new ReadOnlySpan<float>((void*)p.Input.Address, p.Input.Length),
                Upstream = new ReadOnlySpan<float>((void*)p.Upstream.Address, p.Upstream.Length),
                Labels = new ReadOnlySpan<int>((void*)p.Labels.Address, p.Labels.Length),
                Destination = new Span<float>((void*)p.Destination.Address, p.Destination.Length),
                InputGradient = new Span<float>((void*)p.InputGradient.Address, p.InputGradient.Length),
                WeightGradient = new Span<float>((void*)p.WeightGradient.Address, p.WeightGradient.Length),
                PublicWeightGradient = new Span<float>((void*)p.PublicWeightGradient.Address, p.PublicWeightGradient.Length),
                LiveOutputs = new Span<int>((void*)p.LiveOutputs.Address, p.LiveOutputs.Length),
                BackwardPlanes = new Span<float>((void*)p.BackwardPlanes.Address, p.BackwardPlanes.Length),
                SpikeLists = new Span<int>((void*)p.SpikeLists.Address, p.SpikeLists.Length),
                Voltages = new Span<float>((void*)p.Voltages.Address, p.Voltages.Length),
                Peaks = new Span<float>((void*)p.Peaks.Address, p.Peaks.Length),
                PeakSteps = new Span<int>((void*)p.PeakSteps.Address, p.PeakSteps.Length),
                StoredTiles = new Span<int>((void*)p.StoredTiles.Address, p.StoredTiles.Length),
                SampleLoss = new Span<double>((void*)p.SampleLoss.Address, p.SampleLoss.Length),
                Correct = new Span<int>((void*)p.Correct.Address, p.Correct.Length),
                RangeResults = new Span<int>((void*)p.RangeResults.Address, p.RangeResults.Length),
                EventRows = new Span<float>((void*)p.EventRows.Address, p.EventRows.Length),
                NaNAt = new Span<int>((void*)p.NaNAt.Address, p.NaNAt.Length),
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
