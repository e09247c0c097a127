using System.Diagnostics;
using System.Numerics;
using TimingBased.Events;
using TimingBased.Internal;
using TimingBased.Neurons.Kernels;

namespace TimingBased.Neurons;

// Phase 1 of the backward: per sample, in parallel when allowed.
public sealed partial class Tempotron
{
    /// <summary>The backward planes per sample: <c>ga</c>, <c>gb</c>, <c>gk</c>, <c>gs</c> (see <see cref="Recurrence.IntegrateBackward"/>).</summary>
    private const int BackwardPlaneCount = 4;

    /// <summary>The most column tiles a sample's <see cref="SpikeListBlock.LiveTiles"/> mask describes (one bit each).</summary>
    private const int MaxMaskedTiles = 31;

    /// <summary>
    /// Phase 1 for sample <paramref name="b"/>, in four steps: its forward (<see cref="ForwardOfBackward"/>), its
    /// <c>dL/dV</c> (<see cref="UpstreamGradient"/>), the reverse recurrences into its <see cref="SamplePlanes"/>
    /// (<see cref="IntegrateReverse"/>), and its input gradient (<see cref="InputGradientOfSample"/>).
    /// </summary>
    private void BackwardSample(int b, in BatchSpans spans, UpstreamKind kind, SpikeEvents? events)
    {
        var buffers = SampleBuffers.Get(this, backward: true);
        var list = new SpikeListBlock(spans.SpikeLists, b, InFeatures);
        var v = ForwardOfBackward(b, spans, events, buffers, list);
        list.GradientBound = 0f;
        if (list.Count < 0)
        {
            list.Count = 0; // a NaN, recorded for the caller, who throws before phase 2
            list.LiveRows = 0;
            spans.SampleLoss[b] = 0;
            spans.Correct[b] = 0;
            return;
        }

        if (!spans.InputGradient.IsEmpty)
        {
            list.Unpack(); // the input gradient reads the two lists
        }

        buffers.G.Clear();
        (spans.SampleLoss[b], spans.Correct[b]) = UpstreamGradient(b, spans, kind, buffers, v, list);

        // dL/dV is zero after its last non-zero row (for a loss or vMax: the latest arg-max of an output with a
        // gradient), and a sample whose dL/dV is all zero (every output on the right side of the threshold)
        // contributes nothing: its phase 2 is skipped and its input gradient is zero.
        var os = _outStride;
        var rows = RowOps.RowsUpToLastNonZero(RowOps.UseVector(Path, os), buffers.G, os);
        list.LiveRows = rows;
        list.LiveTiles = -1;
        if (rows == 0)
        {
            list.Count = 0;
            if (!spans.InputGradient.IsEmpty)
            {
                spans.InputGradient.Slice(b * InFeatures, InFeatures).Clear();
            }

            return;
        }

        // Integer times without an input gradient need only gk (the dW factor): the other three planes are skipped.
        var planes = new SamplePlanes(spans.BackwardPlanes, b, T * os);
        var onlyGk = list.IntegerTimes && spans.InputGradient.IsEmpty;
        IntegrateReverse(list, buffers, planes, rows, onlyGk);

        // The backward planes are zero from row `rows` on, so a spike at c >= rows adds nothing to dW: phase 2
        // skips it (at initialisation 32-43 % of the spikes of encoded digits).
        if (onlyGk && rows < T)
        {
            list.Count = list.PackShift > 0
                ? SpikeLists.KeepPackedEarlierThan(Path, list.Indices, list.Count, rows, list.PackShift)
                : SpikeLists.KeepEarlierThan(Path, list.Indices, list.Times, list.Count, rows);
        }

        // A training gradient: each dW element gets at most one gk value from this sample (integer times, every tile
        // computed); the batch's bounds let the trainer write the optimizer's update block by block in phase 2.
        if (!spans.WeightGradient.IsEmpty)
        {
            list.GradientBound = onlyGk && list.LiveTiles == -1 ? SpanChecks.MaxAbs(planes.Gk[..(rows * os)], out _) : float.PositiveInfinity;
        }

        if (!spans.InputGradient.IsEmpty)
        {
            InputGradientOfSample(b, spans, list, planes);
        }
    }

    /// <summary>
    /// Phase 1's first step: sample <paramref name="b"/>'s forward into its <see cref="SpikeListBlock"/> (its count -1
    /// for a NaN), or, after a tape or the grouped forward, the recording already there; returns its voltages.
    /// </summary>
    private Span<float> ForwardOfBackward(int b, in BatchSpans spans, SpikeEvents? events, in SampleBuffers buffers, SpikeListBlock list)
    {
        if (!spans.Voltages.IsEmpty)
        {
            var plane = T * _outStride;
            return spans.Voltages.Slice(b * plane, plane); // the forward's lists are in place (-1: a NaN it recorded)
        }

        list.PackShift = 0;
        list.Count = events is null
            ? SampleVoltage(spans.Input.Slice(b * InFeatures, InFeatures), b, buffers, list.Indices, list.Times, out var integerTimes, spans.NaNAt)
            : SampleFromEvents(events[b], spans.EventRows.Slice(b * InFeatures, InFeatures), b, buffers, list.Indices, list.Times, out integerTimes);
        list.IntegerTimes = integerTimes;
        return buffers.V;
    }

    /// <summary>
    /// Phase 1's third step: the reverse recurrences of <c>buffers.G</c>'s first <paramref name="rows"/> rows into
    /// <paramref name="planes"/>; with <paramref name="onlyGk"/> only <c>gk</c>, and only its live column tiles.
    /// </summary>
    /// <remarks>
    /// A column of <c>g</c> that is all zero (an output the next layer does not read: in the W5 chain about 74 of 6,400
    /// hidden outputs get a gradient) leaves its <c>gk</c> column zero, and adding a signed zero to a weight-gradient sum
    /// that starts at +0 never changes it: phase 2 adds only the tiles that have a non-zero column
    /// (<c>SpikeListBlock.LiveTiles</c>), and only their <c>gk</c> columns are computed.
    /// </remarks>
    private void IntegrateReverse(SpikeListBlock list, in SampleBuffers buffers, in SamplePlanes planes, int rows, bool onlyGk)
    {
        var os = _outStride;
        var g = buffers.G;
        if (onlyGk && os > RowOps.TileWidth && os % RowOps.TileWidth == 0 && os / RowOps.TileWidth <= MaxMaskedTiles)
        {
            var live = RowOps.LiveTiles(Path, g, rows, os);
            list.LiveTiles = live == (1 << (os / RowOps.TileWidth)) - 1 ? -1 : live;
        }

        if (list.LiveTiles != -1 && Scatter.UseTiles(Path))
        {
            for (var tiles = list.LiveTiles; tiles != 0; tiles &= tiles - 1)
            {
                var column = BitOperations.TrailingZeroCount(tiles) * RowOps.TileWidth;
                Recurrence.IntegrateBackwardGkOfTile(Path, g[column..], rows, os, _decay, planes.Gk[column..]);
            }

            return;
        }

        Recurrence.IntegrateBackward(Path, g, rows, os, _decay, buffers.State,
            new(onlyGk ? default : planes.Ga, planes.Gb, planes.Gk, planes.Gs));
    }

    /// <summary>
    /// Phase 1's last step: sample <paramref name="b"/>'s input gradient from its two lists and its planes,
    /// <c>dL/ds[i] = V0 sum_o W[o,i] (exp(-d/tau) GA[c]/tau - exp(-d/tauS) GB[c]/tauS)</c> (with <c>gs</c> for an integer
    /// time); silent inputs and inputs at or beyond <c>T</c> get 0.
    /// </summary>
    private void InputGradientOfSample(int b, in BatchSpans spans, SpikeListBlock list, in SamplePlanes planes)
    {
        var os = _outStride;
        var row = spans.Input.Slice(b * InFeatures, InFeatures);
        var dIn = spans.InputGradient.Slice(b * InFeatures, InFeatures);
        dIn.Clear();
        var weights = Parameters;
        var vector = RowOps.UseVector(Path, os);
        var integerTimes = list.IntegerTimes;
        var indices = list.Indices;
        var times = list.Times;
        var count = list.Count;
        var ga = planes.Ga;
        var gb = planes.Gb;
        var gs = planes.Gs;
        float window = T;
        for (var k = 0; k < count; k++)
        {
            var i = indices[k];
            float c, d;
            if (integerTimes)
            {
                // Every listed time is an integer in [0, T) and the list holds it (a tape keeps no row for such a sample).
                c = times[k];
                d = 0f;
            }
            else
            {
                var s = row[i];
                c = MathF.Ceiling(s);
                if (c >= window)
                {
                    continue;
                }

                d = c - s;
            }

            var w = weights.Slice(i * os, os);
            var at = (int)c * os;
            if (d == 0f)
            {
                dIn[i] = RowOps.Dot(vector, w, gs.Slice(at, os));
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
    /// voltages <paramref name="v"/>; returns its loss share and whether it was classified correctly.
    /// </summary>
    private (double Loss, int Correct) UpstreamGradient(int b, in BatchSpans spans, UpstreamKind kind, in SampleBuffers buffers, Span<float> v, in SpikeListBlock list)
    {
        var os = _outStride;
        var outs = OutFeatures;
        var g = buffers.G;
        Span<float> maxima;
        Span<int> argMax;
        if (!spans.Peaks.IsEmpty)
        {
            // A recording forward's peaks (its planes hold only some tiles).
            maxima = spans.Peaks.Slice(b * os, os);
            argMax = spans.PeakSteps.Slice(b * os, os);
        }
        else
        {
            maxima = buffers.Max;
            argMax = buffers.ArgMax;
            if (kind != UpstreamKind.Voltage)
            {
                RowOps.MaxAndArgMax(RowOps.UseVector(Path, os), v, os, maxima, argMax);
            }
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
                    // A zero upstream (an output the next layer does not read, e.g. one that stayed silent) gives a
                    // column of zeros: g is already cleared, and adding a signed zero to a weight-gradient sum that
                    // starts at +0 never changes it, so skipping is exact.
                    var upstream = spans.Upstream[(b * outs) + o];
                    if (upstream != 0f)
                    {
                        if (!spans.StoredTiles.IsEmpty)
                        {
                            EnsureStoredTile(b, o / RowOps.TileWidth, spans, buffers, v, list);
                        }

                        SoftArgMaxGradient(v, o, maxima[o], upstream, g, buffers.Exps);
                    }
                }

                return (0, 0);

            default:
                var label = spans.Labels[b];
                double loss = 0;
                var predicted = Prediction.ClassOf(maxima[..outs]); // the rule Predict uses: a prediction and the accuracy agree
                for (var o = 0; o < outs; o++)
                {
                    var max = maxima[o];
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
    /// Makes sure column tile <paramref name="tile"/> of sample <paramref name="b"/>'s recorded plane <paramref name="v"/>
    /// holds voltages: a recording forward keeps only some tiles (see <c>Tempotron.ForwardGroup</c>), so a tile it did
    /// not keep is computed again here from the sample's spike list with the forward's own kernels (same additions in
    /// the same order, so the same bits) and marked kept.
    /// </summary>
    private void EnsureStoredTile(int b, int tile, in BatchSpans spans, in SampleBuffers buffers, Span<float> v, in SpikeListBlock list)
    {
        ref var stored = ref spans.StoredTiles[b];
        if (stored == -1 || (stored & (1 << tile)) != 0)
        {
            return;
        }

        // Only the grouped forward keeps some tiles, and only for samples with integer times (it keeps all of the others).
        Debug.Assert(list.IntegerTimes && Scatter.UseTiles(Path));
        var column = tile * RowOps.TileWidth;
        var tilePlane = T * RowOps.TileWidth;
        var banks = buffers.Banks[..(Scatter.Banks * tilePlane)];
        banks.Clear();
        ScatterTile(list, column, banks);
        Recurrence.IntegrateBanksOfTile(Path, banks, _decay, v[column..], _outStride);
        stored |= 1 << tile;
    }

    /// <summary>
    /// Writes <c>g[t, o] = upstream sign T p_t (t - soft)</c>, the gradient of SpikingJelly's straight-through
    /// soft arg-max, with <c>p = softmax(T V[·, o])</c> evaluated stably in double precision. Each exponential is
    /// computed once, into <paramref name="exps"/> (<c>[T]</c> scratch), and read back for the second pass.
    /// </summary>
    private void SoftArgMaxGradient(ReadOnlySpan<float> v, int o, float max, float upstream, Span<float> g, Span<double> exps)
    {
        var os = _outStride;
        double scale = T;
        double z = 0, soft = 0;
        exps = exps[..T];
        for (var t = 0; t < exps.Length; t++)
        {
            var e = Math.Exp(scale * (v[(t * os) + o] - max));
            exps[t] = e;
            z += e;
            soft += e * t;
        }

        soft /= z;
        var sign = max >= _vThresholdF ? 1.0 : -1.0;
        var factor = upstream * sign * scale / z;
        for (var t = 0; t < exps.Length; t++)
        {
            g[(t * os) + o] = (float)(factor * exps[t] * (t - soft));
        }
    }
}
