using TimingBased.Internal;
using TimingBased.Neurons.Kernels;
using TimingBased.Optimizers;

namespace TimingBased.Neurons;

// The backward's two phases: phase 1 per sample (forward, upstream gradient, reverse recurrences, input gradient),
// phase 2 per range of inputs (the weight gradient, and a training step's update block by block).
public sealed partial class Tempotron
{
    /// <summary>
    /// Phase 1, per sample (in parallel when allowed): forward, upstream gradient over time, reverse recurrences
    /// into per-sample planes, input gradient. Phase 2, per range of inputs: the weight gradient, summed over the
    /// batch in sample order, so the result does not depend on the degree of parallelism. Also returns the internal
    /// index of the first non-finite element of the weight gradient (-1 if none or not computed). Given an optimizer
    /// (a training step), phase 2 writes its update block by block when bounds prove it finite (see
    /// <see cref="BeginUpdateInPhase2"/>); the result says whether it did.
    /// </summary>
    private BackwardResult BackwardCore(in BackwardRequest request)
    {
        var ranges = request.InternalGradient.IsEmpty && request.PublicGradient.IsEmpty ? 0
            : MaxDegreeOfParallelism == 1 ? 1 : Math.Min(InFeatures, GradientRangesPerThread * MaxDegreeOfParallelism);
        var spans = BackwardSpans(request, ranges, out var nanAt);
        spans = RunPhase1(request, spans);
        if (nanAt[0] != int.MaxValue)
        {
            ThrowNaN(nanAt[0] / InFeatures, nanAt[0] % InFeatures); // phase 1 wrote only scratch (a public backward scanned first)
        }

        var batchSize = request.BatchSize;
        double loss = 0;
        var correct = 0;
        for (var b = 0; b < batchSize; b++)
        {
            loss += spans.SampleLoss[b];
            correct += spans.Correct[b];
        }

        loss = request.Kind == UpstreamKind.MeanSquaredError ? loss / batchSize : loss;
        var gradientBound = request.InternalGradient.IsEmpty ? UpdateBounds.Unknown : GradientBound(spans.SpikeLists, batchSize);
        var committed = double.IsFinite(loss) && request.Update is { } update && BeginUpdateInPhase2(update, gradientBound, request.MaxAbsParameter, out var bound)
            ? bound
            : UpdateBounds.Unknown;
        var (firstNonFinite, maxAbsGradient) = ranges > 0 ? RunPhase2(spans, ranges, batchSize, double.IsNaN(committed) ? null : request.Update) : (-1, 0f);
        return new BackwardResult(loss, correct, firstNonFinite, maxAbsGradient, gradientBound, committed);
    }

    /// <summary>
    /// Carves a backward's working spans from this thread's scratch (or takes a tape's): the spike lists, the per-sample
    /// planes, losses and counters, and the slot where workers record a NaN input (<paramref name="nanAt"/>, set to
    /// <c>int.MaxValue</c>).
    /// </summary>
    private BatchSpans BackwardSpans(in BackwardRequest request, int ranges, out Span<int> nanAt)
    {
        var batchSize = request.BatchSize;
        var tape = request.Tape;
        var plane = T * _outStride;
        var pool = Scratch.Current.Batch;

        // A pool hands out one array per element type: carve the lists and the counters from one int span.
        var listLength = batchSize * SpikeListBlock.Length(InFeatures);
        var flags = request.PublicGradient.IsEmpty || !KernelVariants.LiveOutputs ? 0 : OutFeatures;
        var ints = pool.Ints(listLength + batchSize + (2 * ranges) + 1 + flags);
        nanAt = ints.Slice(listLength + batchSize + (2 * ranges), 1); // workers record a NaN here instead of throwing
        var liveOutputs = ints.Slice(listLength + batchSize + (2 * ranges) + 1, flags);
        if (!liveOutputs.IsEmpty && !MarkLiveOutputs(request.Upstream, batchSize, request.Kind, liveOutputs))
        {
            liveOutputs = default; // every output: phase 2 copies whole blocks
        }

        nanAt[0] = int.MaxValue;
        return new BatchSpans
        {
            Input = request.Input,
            Upstream = request.Upstream,
            Labels = request.Labels,
            InputGradient = request.InputGradient,
            WeightGradient = request.InternalGradient,
            PublicWeightGradient = request.PublicGradient,
            LiveOutputs = liveOutputs,
            BackwardPlanes = pool.Floats(batchSize * BackwardPlaneCount * plane), // bounded by ValidateBackwardBatch
            SpikeLists = tape is null ? ints[..listLength] : tape.Lists[..listLength], // a tape's lists come from its forward
            Voltages = tape is null ? default : tape.Voltages[..(batchSize * plane)],
            Peaks = tape is null ? default : tape.Peaks[..(batchSize * _outStride)],
            PeakSteps = tape is null ? default : tape.PeakSteps[..(batchSize * _outStride)],
            StoredTiles = tape is null ? default : tape.StoredTiles[..batchSize],
            SampleLoss = pool.Doubles(batchSize),
            Correct = ints.Slice(listLength, batchSize),
            RangeResults = ints.Slice(listLength + batchSize, 2 * ranges),
            NaNAt = MaxDegreeOfParallelism > 1 ? nanAt : default,
            EventRows = request.EventRows,
        };
    }

    /// <summary>
    /// Phase 1 over the batch. Without a tape, a wide layer runs the grouped forward (see Tempotron.TiledForward.cs)
    /// into this thread's voltage planes and peaks, then phase 1 of the group's samples, which reads them as it reads a
    /// tape's: one parallel phase, keeping only the tiles of outputs with a spike-time upstream. Returns the spans the
    /// later steps read.
    /// </summary>
    private BatchSpans RunPhase1(in BackwardRequest request, BatchSpans spans)
    {
        var (kind, batchSize, events) = (request.Kind, request.BatchSize, request.Events);
        if (request.Tape is not null || !UseTiledForward)
        {
            ParallelBatch.Run(this, batchSize, spans, static (self, b, _, in s, work) => self.BackwardSample(b, s, work.Kind, work.Events), (Kind: kind, Events: events));
            return spans;
        }

        var plane = T * _outStride;
        var groupPool = Scratch.Current.Group;
        var floats = groupPool.Floats(batchSize * (plane + _outStride));
        var peakInts = groupPool.Ints(batchSize * (_outStride + 1));
        spans = spans with
        {
            Voltages = floats[..(batchSize * plane)],
            Peaks = floats[(batchSize * plane)..],
            PeakSteps = peakInts[..(batchSize * _outStride)],
            StoredTiles = peakInts[(batchSize * _outStride)..],
        };
        ParallelBatch.Run(this, GroupCount(batchSize), spans, static (self, group, _, in s, work) =>
        {
            self.ForwardGroup(group, s, ForwardOutput.None, work.Batch, work.Events, keepUpstreamColumns: work.Kind == UpstreamKind.SpikeTimes);
            var first = group * self.TiledGroup;
            for (var b = first; b < Math.Min(work.Batch, first + self.TiledGroup); b++)
            {
                self.BackwardSample(b, s, work.Kind, null);
            }
        }, (Kind: kind, Batch: batchSize, Events: events));
        return spans;
    }

    /// <summary>
    /// Phase 2 over <paramref name="ranges"/> ranges of inputs (the optimizer's update written block by block when
    /// <paramref name="update"/> is given); returns the internal index of the first non-finite gradient element (-1 if
    /// none) and the gradient's largest magnitude.
    /// </summary>
    private (int FirstNonFinite, float MaxAbsGradient) RunPhase2(BatchSpans spans, int ranges, int batchSize, IChunkedOptimizer? update)
    {
        ParallelBatch.Run(this, ranges, spans, static (self, r, ranges, in s, work) => self.AccumulateWeightGradient(r, ranges, s, work.Batch, work.Update, work.Phase),
            (Batch: batchSize, Update: update, Phase: Interlocked.Increment(ref _phase2Count)));
        var firstNonFinite = -1;
        var maxAbsGradient = 0f;
        for (var r = 0; r < ranges && firstNonFinite < 0; r++)
        {
            firstNonFinite = spans.RangeResults[r];
            maxAbsGradient = Math.Max(maxAbsGradient, BitConverter.Int32BitsToSingle(spans.RangeResults[ranges + r]));
        }

        return (firstNonFinite, maxAbsGradient);
    }

    /// <summary>Counts phase 2 runs over all models: each run's number tells a thread whether the list positions it holds are this run's (see <see cref="AccumulateWeightGradient"/>).</summary>
    private static long _phase2Count;

    /// <summary>
    /// An upper bound on every element of a training gradient, from phase 1: each sample bounded what it adds to a
    /// <c>dW</c> element (<c>SpikeListBlock.GradientBound</c>, +infinity where it could not), and an element is a
    /// float sum of at most one such term per sample, so the batch's sum of the bounds, widened for one rounding per
    /// addition, bounds it (<see cref="UpdateBounds"/>).
    /// </summary>
    private double GradientBound(Span<int> lists, int batchSize)
    {
        double sum = 0;
        for (var b = 0; b < batchSize; b++)
        {
            sum += new SpikeListBlock(lists, b, InFeatures).GradientBound;
        }

        return UpdateBounds.Up(sum, batchSize);
    }

    /// <summary>
    /// Whether phase 2 may write the optimizer's update block by block as it sums the weight gradient (then it has
    /// begun: see <see cref="IChunkedOptimizer.TryBeginChunkedStep"/>): <paramref name="gradientBound"/> (see
    /// <see cref="GradientBound"/>) must prove every gradient element finite, and with the bound on the weights the
    /// update too. Such a step cannot fail half-way, which is what lets it skip both the whole-gradient buffer and the
    /// optimizer's separate pass over it.
    /// </summary>
    private bool BeginUpdateInPhase2(IChunkedOptimizer update, double gradientBound, double maxAbsParameter, out double parameterBound)
    {
        parameterBound = UpdateBounds.Unknown;
        ThrowIfFrozen();
        if (!UpdateBounds.Proven(gradientBound) || !update.TryBeginChunkedStep(Parameters.Length, maxAbsParameter, gradientBound, out parameterBound))
        {
            return false;
        }

        WeightsVersion++; // as StepOptimizer: the weights change in phase 2
        return true;
    }
}
