using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TimingBased.Internal;
using TimingBased.Optimizers;

namespace TimingBased.Neurons;

public sealed partial class Tempotron
{
    private enum UpstreamKind
    {
        MaxVoltage,
        SpikeTimes,
        Voltage,
        MeanSquaredError,
        PaperCost,
    }

    /// <summary>Computes a loss of <c>MaxVoltage(inSpikes)</c> against labels and its gradient with respect to the weights.</summary>
    /// <param name="inSpikes">Input spike times, shape <c>[batch, in]</c>, batch = <c>labels.Length</c>.</param>
    /// <param name="labels">Class labels in <c>[0, out)</c>, shape <c>[batch]</c>.</param>
    /// <param name="weightGradient">Receives <c>dL/dW</c>, shape <c>[out, in]</c> (overwritten, summed over the batch).</param>
    /// <param name="loss">Which loss; see <see cref="TempotronLoss"/>.</param>
    /// <returns>The loss, as <see cref="Loss"/> computes it.</returns>
    /// <remarks>
    /// With <c>t*</c> the first arg-max of <c>V[b,o,·]</c> and <c>g = dL/dvMax[b,o]</c>,
    /// <c>dL/dW[o,i] = sum_b g V0 K(t* - s[b,i])</c>: for the paper cost this is the tempotron learning rule
    /// (up to the learning rate). Computed event by event: <c>O(batch (spikes out + out T))</c>.
    /// </remarks>
    /// <exception cref="ArgumentException">A length is wrong, or an input is NaN.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside <c>[0, out)</c>.</exception>
    public float LossGradient(ReadOnlySpan<float> inSpikes, ReadOnlySpan<int> labels, Span<float> weightGradient,
        TempotronLoss loss = TempotronLoss.MeanSquaredError)
    {
        var kind = ValidateLossInputs(inSpikes, labels, loss);
        RequireLength(weightGradient, nameof(weightGradient), "[out, in]", WeightCount);
        var g = Scratch.Current.Gradient.Floats(Parameters.Length);
        var (total, _, _) = BackwardCore(inSpikes, labels.Length, default, labels, kind, g, default);
        ToPublicLayout(g, weightGradient);
        return (float)total;
    }

    /// <summary>Back-propagates <c>dL/dvMax</c> through <see cref="MaxVoltage(ReadOnlySpan{float}, int, Span{float})"/>.</summary>
    /// <param name="inSpikes">Input spike times, shape <c>[batch, in]</c>.</param>
    /// <param name="batchSize">The batch size; at least 1.</param>
    /// <param name="upstream"><c>dL/dvMax</c>, shape <c>[batch, out]</c>.</param>
    /// <param name="weightGradient">Receives <c>dL/dW</c>, shape <c>[out, in]</c> (overwritten); empty to skip.</param>
    /// <param name="inputGradient">Receives <c>dL/dinSpikes</c>, shape <c>[batch, in]</c> (overwritten); empty to skip.</param>
    /// <remarks>
    /// The gradient flows to <c>V[b,o,t*]</c> at the first arg-max <c>t*</c>, as PyTorch's <c>max</c> does. With the
    /// reverse recurrences <c>GA[c] = g[c] + exp(-1/tau) GA[c+1]</c>, <c>GB[c] = g[c] + exp(-1/tauS) GB[c+1]</c> over
    /// <c>g[t] = dL/dV[b,o,t]</c> and, for an input spike at <c>s</c>, <c>c = ceil(s)</c>, <c>d = c - s</c>:
    /// <c>dL/dW[o,i] = V0 sum_b (exp(-d/tau) GA[c] - exp(-d/tauS) GB[c])</c> and
    /// <c>dL/ds[b,i] = V0 sum_o W[o,i] (exp(-d/tau) GA[c]/tau - exp(-d/tauS) GB[c]/tauS)</c>; silent inputs and
    /// inputs at or beyond <c>T</c> get 0. See <c>docs/gradients.md</c>.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> &lt; 1.</exception>
    /// <exception cref="ArgumentException">A length is wrong, or an input is NaN.</exception>
    public void MaxVoltageBackward(ReadOnlySpan<float> inSpikes, int batchSize, ReadOnlySpan<float> upstream,
        Span<float> weightGradient, Span<float> inputGradient) =>
        PublicBackward(inSpikes, batchSize, upstream, weightGradient, inputGradient, UpstreamKind.MaxVoltage);

    /// <summary>Back-propagates <c>dL/dspikes</c> through <see cref="SpikeTimes(ReadOnlySpan{float}, int, Span{float})"/> with SpikingJelly's soft arg-max.</summary>
    /// <param name="inSpikes">Input spike times, shape <c>[batch, in]</c>.</param>
    /// <param name="batchSize">The batch size; at least 1.</param>
    /// <param name="upstream"><c>dL/dspikes</c>, shape <c>[batch, out]</c>.</param>
    /// <param name="weightGradient">Receives <c>dL/dW</c>, shape <c>[out, in]</c> (overwritten); empty to skip.</param>
    /// <param name="inputGradient">Receives <c>dL/dinSpikes</c>, shape <c>[batch, in]</c> (overwritten); empty to skip.</param>
    /// <remarks>
    /// The forward value is the hard arg-max; the gradient is that of <c>sign soft</c> with
    /// <c>soft = sum_t p_t t</c>, <c>p = softmax(T V)</c> (computed stably) and <c>sign = ±1</c> as in the forward:
    /// <c>dL/dV[b,o,t] = upstream sign T p_t (t - soft)</c>, then as in <see cref="MaxVoltageBackward"/>.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> &lt; 1.</exception>
    /// <exception cref="ArgumentException">A length is wrong, or an input is NaN.</exception>
    public void SpikeTimesBackward(ReadOnlySpan<float> inSpikes, int batchSize, ReadOnlySpan<float> upstream,
        Span<float> weightGradient, Span<float> inputGradient) =>
        PublicBackward(inSpikes, batchSize, upstream, weightGradient, inputGradient, UpstreamKind.SpikeTimes);

    /// <summary>Back-propagates <c>dL/dV</c> through <see cref="Voltage(ReadOnlySpan{float}, int, Span{float})"/>.</summary>
    /// <param name="inSpikes">Input spike times, shape <c>[batch, in]</c>.</param>
    /// <param name="batchSize">The batch size; at least 1.</param>
    /// <param name="upstream"><c>dL/dV</c>, shape <c>[batch, out, T]</c>.</param>
    /// <param name="weightGradient">Receives <c>dL/dW</c>, shape <c>[out, in]</c> (overwritten); empty to skip.</param>
    /// <param name="inputGradient">Receives <c>dL/dinSpikes</c>, shape <c>[batch, in]</c> (overwritten); empty to skip.</param>
    /// <remarks>As <see cref="MaxVoltageBackward"/> with <c>g[t] = upstream[b,o,t]</c>.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> &lt; 1.</exception>
    /// <exception cref="ArgumentException">A length is wrong, or an input is NaN.</exception>
    public void VoltageBackward(ReadOnlySpan<float> inSpikes, int batchSize, ReadOnlySpan<float> upstream,
        Span<float> weightGradient, Span<float> inputGradient) =>
        PublicBackward(inSpikes, batchSize, upstream, weightGradient, inputGradient, UpstreamKind.Voltage);

    /// <summary>Applies one optimizer step to the weights from a gradient in the public <c>[out, in]</c> layout.</summary>
    /// <param name="optimizer">The optimizer; it must be used with this model only (its state follows the internal layout).</param>
    /// <param name="weightGradient"><c>dL/dW</c>, shape <c>[out, in]</c>, finite.</param>
    /// <exception cref="ArgumentNullException"><paramref name="optimizer"/> is null.</exception>
    /// <exception cref="ArgumentException">The gradient has the wrong length or a non-finite value; nothing changed.</exception>
    /// <exception cref="InvalidOperationException">The update would make a weight or optimizer state non-finite; nothing changed.</exception>
    public void ApplyGradient(IOptimizer optimizer, ReadOnlySpan<float> weightGradient)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ValidatePublicWeights(weightGradient, nameof(weightGradient));
        var g = Scratch.Current.Gradient.Floats(Parameters.Length);
        g.Clear();
        ToInternalLayout(weightGradient, g);
        optimizer.Step(Parameters, g);
    }

    /// <summary>
    /// The training step's gradient: loss, correct count and <c>dL/dW</c> in the internal layout, with the internal
    /// index of its first non-finite element (-1 if none), found while each block of it was still in cache.
    /// </summary>
    internal (double Loss, int Correct, int FirstNonFinite) TrainingGradient(ReadOnlySpan<float> inSpikes, ReadOnlySpan<int> labels,
        TempotronLoss loss, Span<float> internalGradient)
    {
        var kind = ValidateLossInputs(inSpikes, labels, loss);
        return BackwardCore(inSpikes, labels.Length, default, labels, kind, internalGradient, default);
    }

    /// <summary>Checks the labels and the <c>[batch, in]</c> shape of a loss-gradient call; returns the loss's upstream kind.</summary>
    private UpstreamKind ValidateLossInputs(ReadOnlySpan<float> inSpikes, ReadOnlySpan<int> labels, TempotronLoss loss)
    {
        ValidateLabels(labels);
        ValidateBatch(inSpikes, labels.Length);
        ValidateBackwardBatch(labels.Length);
        return loss == TempotronLoss.MeanSquaredError ? UpstreamKind.MeanSquaredError : UpstreamKind.PaperCost;
    }

    private void PublicBackward(ReadOnlySpan<float> inSpikes, int batchSize, ReadOnlySpan<float> upstream,
        Span<float> weightGradient, Span<float> inputGradient, UpstreamKind kind)
    {
        ValidateBatch(inSpikes, batchSize);
        ValidateBackwardBatch(batchSize);
        var upstreamLength = kind == UpstreamKind.Voltage ? (long)batchSize * OutFeatures * T : (long)batchSize * OutFeatures;
        if (upstream.Length != upstreamLength)
        {
            ThrowHelper.LengthMismatch(nameof(upstream), kind == UpstreamKind.Voltage ? "[batch, out, T]" : "[batch, out]",
                upstreamLength, upstream.Length);
        }

        var bad = SpanChecks.IndexOfNonFinite(upstream);
        if (bad >= 0)
        {
            ThrowHelper.NotFiniteAt(nameof(upstream), string.Create(CultureInfo.InvariantCulture, $"index {bad}"), upstream[bad]);
        }

        if (!weightGradient.IsEmpty)
        {
            RequireLength(weightGradient, nameof(weightGradient), "[out, in]", WeightCount);
        }

        if (!inputGradient.IsEmpty)
        {
            RequireLength(inputGradient, nameof(inputGradient), "[batch, in]", (long)batchSize * InFeatures);
        }

        // A failed call writes nothing: find a NaN before phase 1 writes any input gradient.
        ThrowIfNaN(inSpikes);
        var g = weightGradient.IsEmpty ? default : Scratch.Current.Gradient.Floats(Parameters.Length);
        BackwardCore(inSpikes, batchSize, upstream, default, kind, g, inputGradient);
        if (!weightGradient.IsEmpty)
        {
            ToPublicLayout(g, weightGradient);
        }
    }

    /// <summary>
    /// Throws unless a backward batch's working memory fits: <c>batch * 4 * T * outStride</c> floats of backward planes
    /// and <c>batch * (2 (in + 16) + 3)</c> ints of spike lists, each at most the largest array.
    /// </summary>
    private void ValidateBackwardBatch(int batchSize)
    {
        var planes = (long)batchSize * 4 * T * _outStride;
        var lists = (long)batchSize * IndexBlockLength;
        if (planes > AlignedFloats.MaxLength || lists > Array.MaxLength)
        {
            ThrowHelper.SizeRule(nameof(batchSize), batchSize, string.Create(CultureInfo.InvariantCulture,
                $"batch * 4 * T * outStride <= {AlignedFloats.MaxLength} and batch * (2 (in + 16) + 3) <= {Array.MaxLength} for a backward pass (T = {T}, outStride = {_outStride}, in = {InFeatures}); split the batch"));
        }
    }

    private static void RequireLength(Span<float> span, string name, string shape, long length)
    {
        if (span.Length != length)
        {
            ThrowHelper.LengthMismatch(name, shape, length, span.Length);
        }
    }

    /// <summary>
    /// Phase 1, per sample (in parallel when allowed): forward, upstream gradient over time, reverse recurrences
    /// into per-sample planes, input gradient. Phase 2, per range of inputs: the weight gradient, summed over the
    /// batch in sample order, so the result does not depend on the degree of parallelism. Also returns the internal
    /// index of the first non-finite element of the weight gradient (-1 if none or not computed).
    /// </summary>
    private (double Loss, int Correct, int FirstNonFinite) BackwardCore(ReadOnlySpan<float> inSpikes, int batchSize, ReadOnlySpan<float> upstream,
        ReadOnlySpan<int> labels, UpstreamKind kind, Span<float> internalGradient, Span<float> inputGradient)
    {
        if (MaxDegreeOfParallelism > 1)
        {
            ThrowIfNaN(inSpikes); // workers must not throw: check first
        }

        var plane = T * _outStride;
        var pool = Scratch.Current.Batch;
        var stride = IndexBlockLength; // per sample: a header, then indices and times
        var ranges = internalGradient.IsEmpty ? 0 : MaxDegreeOfParallelism == 1 ? 1 : Math.Min(InFeatures, 4 * MaxDegreeOfParallelism);
        var spans = new BatchSpans
        {
            Input = inSpikes,
            Upstream = upstream,
            Labels = labels,
            Output = inputGradient,
            Output2 = internalGradient,
            Planes = pool.Floats(batchSize * 4 * plane), // bounded by ValidateBackwardBatch
            Indices = pool.Ints(batchSize * stride),
            Stats = pool.Doubles((2 * batchSize) + ranges), // per sample: loss, correct; per range: first non-finite
        };
        ParallelBatch.Run(this, batchSize, spans, static (self, b, _, in s, kind) => self.BackwardSample(b, b, s, (UpstreamKind)kind), (int)kind);
        var firstNonFinite = -1;
        if (ranges > 0)
        {
            ParallelBatch.Run(this, ranges, spans, static (self, r, ranges, in s, batch) => self.AccumulateWeightGradient(r, ranges, s, batch), batchSize);
            for (var r = 0; r < ranges && firstNonFinite < 0; r++)
            {
                firstNonFinite = (int)spans.Stats[(2 * batchSize) + r];
            }
        }

        double loss = 0;
        var correct = 0;
        for (var b = 0; b < batchSize; b++)
        {
            loss += spans.Stats[2 * b];
            correct += (int)spans.Stats[(2 * b) + 1];
        }

        return (kind == UpstreamKind.MeanSquaredError ? loss / batchSize : loss, correct, firstNonFinite);
    }

    private void BackwardSample(int b, int slot, in BatchSpans spans, UpstreamKind kind)
    {
        var os = _outStride;
        var plane = T * os;
        var stride = IndexBlockLength;
        var buffers = SampleBuffers.Get(this, backward: true);
        var row = spans.Input.Slice(b * InFeatures, InFeatures);
        var indexBlock = spans.Indices.Slice(slot * stride, stride);
        var spikeLength = SpikeListLength;
        var indices = indexBlock.Slice(IndexHeader, spikeLength);
        var times = indexBlock.Slice(IndexHeader + spikeLength, spikeLength);
        var count = SampleVoltage(row, b, buffers, indices, times, out var integerTimes);
        indexBlock[0] = count;
        indexBlock[1] = integerTimes ? 1 : 0;

        var g = buffers.G;
        g.Clear();
        var (loss, correct) = UpstreamGradient(b, spans, kind, buffers);
        spans.Stats[2 * b] = loss;
        spans.Stats[(2 * b) + 1] = correct;

        // dL/dV is zero after its last non-zero row (for a loss or vMax: the latest arg-max of an output with a
        // gradient), and a sample whose dL/dV is all zero (every output on the right side of the threshold)
        // contributes nothing: its phase 2 is skipped and its input gradient is zero.
        var rows = EventKernels.RowsUpToLastNonZero(g, os);
        indexBlock[2] = rows;
        if (rows == 0)
        {
            indexBlock[0] = 0;
            if (!spans.Output.IsEmpty)
            {
                spans.Output.Slice(b * InFeatures, InFeatures).Clear();
            }

            return;
        }

        var planes = spans.Planes.Slice(slot * 4 * plane, 4 * plane);
        var ga = planes[..plane];
        var gb = planes.Slice(plane, plane);
        var gk = planes.Slice(2 * plane, plane);
        var gs = planes.Slice(3 * plane, plane);
        // Integer times without an input gradient need only gk (the dW factor): skip the other three planes.
        var onlyGk = integerTimes && spans.Output.IsEmpty;
        EventKernels.IntegrateBackward(g, rows, os, _decayA, _decayB, V0, Tau, TauS, buffers.State,
            onlyGk ? default : ga, gb, gk, gs);

        // The backward planes are zero from row `rows` on, so a spike at c >= rows adds nothing to dW: phase 2
        // skips it (at initialisation 32-43 % of the spikes of encoded digits).
        if (onlyGk && rows < T)
        {
            indexBlock[0] = EventKernels.KeepEarlierThan(indices, times, count, rows);
        }

        if (spans.Output.IsEmpty)
        {
            return;
        }

        var dIn = spans.Output.Slice(b * InFeatures, InFeatures);
        dIn.Clear();
        var weights = Parameters;
        float window = T;
        for (var k = 0; k < count; k++)
        {
            var i = indices[k];
            var s = row[i];
            var c = MathF.Ceiling(s);
            if (c >= window)
            {
                continue;
            }

            var w = weights.Slice(i * os, os);
            var at = (int)c * os;
            var d = c - s;
            if (d == 0f)
            {
                dIn[i] = EventKernels.Dot(w, gs.Slice(at, os));
                continue;
            }

            var ea = (float)Math.Exp(-d / Tau);
            var eb = (float)Math.Exp(-d / TauS);
            var sum = 0f;
            for (var o = 0; o < OutFeatures; o++)
            {
                sum += w[o] * ((ea * ga[at + o] / (float)Tau) - (eb * gb[at + o] / (float)TauS));
            }

            dIn[i] = sum;
        }
    }

    /// <summary>
    /// Fills <c>buffers.G</c> (<c>[T, outStride]</c>, zeroed) with <c>dL/dV</c> for sample <paramref name="b"/> from its
    /// voltages <c>buffers.V</c>; returns its loss share and whether it was classified correctly.
    /// </summary>
    private (double Loss, int Correct) UpstreamGradient(int b, in BatchSpans spans, UpstreamKind kind, in SampleBuffers buffers)
    {
        var os = _outStride;
        var outs = OutFeatures;
        var v = buffers.V;
        var g = buffers.G;
        var maxima = buffers.Max;
        var argMax = buffers.ArgMax;
        if (kind != UpstreamKind.Voltage)
        {
            EventKernels.MaxAndArgMax(v, os, maxima, argMax);
        }

        switch (kind)
        {
            case UpstreamKind.Voltage:
                var up = spans.Upstream.Slice(b * outs * T, outs * T);
                for (var o = 0; o < outs; o++)
                {
                    for (var t = 0; t < T; t++)
                    {
                        g[(t * os) + o] = up[(o * T) + t];
                    }
                }

                return (0, 0);

            case UpstreamKind.MaxVoltage:
                for (var o = 0; o < outs; o++)
                {
                    g[(argMax[o] * os) + o] = spans.Upstream[(b * outs) + o];
                }

                return (0, 0);

            case UpstreamKind.SpikeTimes:
                for (var o = 0; o < outs; o++)
                {
                    SoftArgMaxGradient(v, o, maxima[o], spans.Upstream[(b * outs) + o], g);
                }

                return (0, 0);

            default:
                var label = spans.Labels[b];
                double loss = 0;
                var best = float.NegativeInfinity;
                var predicted = 0;
                for (var o = 0; o < outs; o++)
                {
                    var max = maxima[o];
                    if (max > best)
                    {
                        best = max;
                        predicted = o;
                    }

                    var (term, grad) = LossTerm(max, label == o,
                        kind == UpstreamKind.MeanSquaredError ? TempotronLoss.MeanSquaredError : TempotronLoss.PaperCost,
                        spans.Labels.Length);
                    loss += term;
                    g[(argMax[o] * os) + o] = grad;
                }

                return (loss, predicted == label ? 1 : 0);
        }
    }

    /// <summary>
    /// Writes <c>g[t, o] = upstream sign T p_t (t - soft)</c>, the gradient of SpikingJelly's straight-through
    /// soft arg-max, with <c>p = softmax(T V[·, o])</c> evaluated stably in double precision.
    /// </summary>
    private void SoftArgMaxGradient(ReadOnlySpan<float> v, int o, float max, float upstream, Span<float> g)
    {
        var os = _outStride;
        double scale = T;
        double z = 0, soft = 0;
        for (var t = 0; t < T; t++)
        {
            var e = Math.Exp(scale * (v[(t * os) + o] - max));
            z += e;
            soft += e * t;
        }

        soft /= z;
        var sign = max >= _vThresholdF ? 1.0 : -1.0;
        var factor = upstream * sign * scale / z;
        for (var t = 0; t < T; t++)
        {
            var p = Math.Exp(scale * (v[(t * os) + o] - max));
            g[(t * os) + o] = (float)(factor * p * (t - soft));
        }
    }

    /// <summary>The length of a sample's list of spiking inputs, or of their times: <c>in</c> plus the slack whole-vector stores need.</summary>
    private int SpikeListLength => InFeatures + EventKernels.IndexSlack;

    /// <summary>
    /// The header of a sample's block in the batch index buffer: the number of listed spikes, 1 if all times are
    /// integers, and the number of leading rows of the backward planes that can be non-zero (a spike at or after
    /// that step contributes nothing to <c>dW</c>).
    /// </summary>
    private const int IndexHeader = 3;

    /// <summary>
    /// Per sample in the batch index buffer: the <see cref="IndexHeader"/>, then the indices of the spiking inputs
    /// and, <see cref="SpikeListLength"/> further on, their truncated times.
    /// </summary>
    private int IndexBlockLength => (2 * SpikeListLength) + IndexHeader;

    /// <summary>Inputs per block of phase 2: their <c>dW</c> rows (16 KB for 16-float rows) stay in L1 while every sample adds to them.</summary>
    private const int GradientBlock = 256;

    /// <summary>
    /// Phase 2: <c>dW</c> rows for inputs in range <paramref name="range"/> of <paramref name="ranges"/>. The range is
    /// walked in blocks of <see cref="GradientBlock"/> inputs; within a block, samples add their spikes in order, so
    /// each element is summed over the batch in sample order whatever the partition. Each block is cleared, filled
    /// and checked for non-finite values while it is in L1; the first bad internal index (or -1) goes to the
    /// range's slot after the per-sample statistics.
    /// </summary>
    private void AccumulateWeightGradient(int range, int ranges, in BatchSpans spans, int batchSize)
    {
        var os = _outStride;
        var first = (int)((long)InFeatures * range / ranges);
        var end = (int)((long)InFeatures * (range + 1) / ranges);
        var stride = IndexBlockLength;
        Span<int> cursors = batchSize <= 256 ? stackalloc int[batchSize] : new int[batchSize];
        for (var b = 0; b < batchSize; b++)
        {
            var block = spans.Indices.Slice(b * stride, stride);
            cursors[b] = IndexHeader + (first == 0 ? 0 : LowerBound(block.Slice(IndexHeader, block[0]), first));
        }

        var firstNonFinite = -1;
        for (var blockStart = first; blockStart < end; blockStart += GradientBlock)
        {
            var blockEnd = Math.Min(end, blockStart + GradientBlock);
            var rows = spans.Output2.Slice(blockStart * os, (blockEnd - blockStart) * os);
            rows.Clear();
            for (var b = 0; b < batchSize; b++)
            {
                cursors[b] = AccumulateSample(b, cursors[b], blockEnd, spans);
            }

            if (firstNonFinite < 0)
            {
                var bad = SpanChecks.IndexOfNonFinite(rows);
                firstNonFinite = bad < 0 ? -1 : (blockStart * os) + bad;
            }
        }

        spans.Stats[(2 * batchSize) + range] = firstNonFinite;
    }

    /// <summary>
    /// Adds sample <paramref name="b"/>'s contribution to the <c>dW</c> rows of its spiking inputs from position
    /// <paramref name="cursor"/> of its index block up to input <paramref name="end"/>; returns the next position.
    /// </summary>
    private int AccumulateSample(int b, int cursor, int end, in BatchSpans spans)
    {
        var os = _outStride;
        var plane = T * os;
        var stride = IndexBlockLength;
        var dW = spans.Output2;
        ref var dWRef = ref MemoryMarshal.GetReference(dW);
        var block = spans.Indices.Slice(b * stride, stride);
        var last = block[0] + IndexHeader - 1; // indices sit at positions IndexHeader .. count + IndexHeader - 1
        var planes = spans.Planes.Slice(b * 4 * plane, 4 * plane);
        ref var gk = ref MemoryMarshal.GetReference(planes.Slice(2 * plane, plane));
        var k = cursor;
        if (block[1] == 1)
        {
            // All times are integers in [0, T): c = s, d = 0, and the times list holds c.
            ref var indexRef = ref MemoryMarshal.GetReference(block);
            return EventKernels.AddRowsByTime(ref dWRef, ref gk, ref indexRef, ref Unsafe.Add(ref indexRef, SpikeListLength), k, last, end, os);
        }

        var row = spans.Input.Slice(b * InFeatures, InFeatures);
        float window = block[2]; // from this step on the planes are zero
        for (; k <= last; k++)
        {
            var i = block[k];
            if (i >= end)
            {
                break;
            }

            var s = row[i];
            var c = MathF.Ceiling(s);
            if (c >= window)
            {
                continue;
            }

            var d = c - s;
            if (d == 0f)
            {
                EventKernels.Add(ref Unsafe.Add(ref dWRef, i * os), ref Unsafe.Add(ref gk, (int)c * os), os);
                continue;
            }

            var ea = (float)Math.Exp(-d / Tau);
            var eb = (float)Math.Exp(-d / TauS);
            EventKernels.AddCombination(dW.Slice(i * os, os), planes.Slice((int)c * os, os), ea, planes.Slice(plane + ((int)c * os), os), eb);
        }

        return k;
    }

    private static int LowerBound(ReadOnlySpan<int> sorted, int value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
