using TimingBased.Internal;
using TimingBased.Neurons.Kernels;

namespace TimingBased.Neurons;

// The per-sample blocks of scratch: a thread's buffers for one sample, a sample's spike-list block and its backward planes.
public sealed partial class Tempotron
{
    /// <summary>Per-thread scratch for one sample, carved out of <see cref="Scratch.Current"/>.</summary>
    private readonly ref struct SampleBuffers
    {
        public readonly Span<int> Indices;
        public readonly Span<int> Times;
        public readonly Span<float> Banks;
        public readonly Span<float> Delta;
        public readonly Span<float> V;
        public readonly Span<float> G;
        public readonly Span<float> Max;
        public readonly Span<int> ArgMax;
        public readonly Span<double> State;
        public readonly Span<double> Exps;

        private SampleBuffers(Tempotron owner, bool backward)
        {
            var scratch = Scratch.Current.Sample;
            var plane = owner.T * owner._outStride;
            var os = owner._outStride;
            var banks = AccumulatorBanks * plane; // the tiled forward's two samples' tile banks are Scratch.TileBanks
            var floats = scratch.Floats(banks + (plane * (backward ? 3 : 2)) + os);
            Max = floats[^os..];
            Banks = floats[..banks];
            var rest = floats[banks..^os];
            Delta = rest[..plane];
            V = rest.Slice(plane, plane);
            if (backward)
            {
                G = rest.Slice(2 * plane, plane);
            }

            var spikeLength = owner.InFeatures + SpikeLists.IndexSlack;
            var ints = scratch.Ints((2 * spikeLength) + os);
            Indices = ints[..spikeLength];
            Times = ints.Slice(spikeLength, spikeLength);
            ArgMax = ints[(2 * spikeLength)..];
            var doubles = scratch.Doubles((2 * os) + (backward ? owner.T : 0));
            State = doubles[..(2 * os)];
            Exps = doubles[(2 * os)..];
        }

        public static SampleBuffers Get(Tempotron owner, bool backward) => new(owner, backward);
    }

    /// <summary>
    /// Sample <c>b</c>'s block of the batch spike-list buffer: a header (the number of listed spikes, whether all
    /// their times are integers, how many leading rows and which column tiles of the backward planes can be non-zero,
    /// and a bound on what the sample adds to the weight gradient), then the list
    /// of spiking inputs and, as long again, their integer times. Phase 1 writes it; phase 2 reads it.
    /// </summary>
    private readonly ref struct SpikeListBlock
    {
        private const int HeaderLength = 6;
        private readonly Span<int> _block;
        private readonly int _listLength;

        public SpikeListBlock(Span<int> lists, int sample, int inFeatures)
        {
            _listLength = inFeatures + SpikeLists.IndexSlack;
            var length = Length(inFeatures);
            _block = lists.Slice(sample * length, length);
        }

        /// <summary>The ints one sample's block takes for <paramref name="inFeatures"/> inputs.</summary>
        public static int Length(int inFeatures) => HeaderLength + (2 * (inFeatures + SpikeLists.IndexSlack));

        /// <summary>The number of listed spikes (phase 2 walks this many).</summary>
        public ref int Count => ref _block[0];

        /// <summary>Whether every listed time is an integer (then <see cref="Times"/> holds each spike's grid step).</summary>
        public bool IntegerTimes
        {
            get => _block[1] != 0;
            set => _block[1] = value ? 1 : 0;
        }

        /// <summary>How many leading rows of the backward planes can be non-zero: a spike at or after that step adds nothing.</summary>
        public ref int LiveRows => ref _block[2];

        /// <summary>
        /// Which 16-float column tiles of the backward planes can be non-zero, one bit per tile; -1 for all of them (rows
        /// of one tile, of more than 31, or planes phase 2 reads beyond <c>gk</c>). Phase 2 adds only those tiles.
        /// </summary>
        public ref int LiveTiles => ref _block[3];

        /// <summary>
        /// For a training gradient: the largest magnitude this sample adds to any <c>dW</c> element (its largest
        /// <c>|gk|</c>), or +infinity where phase 1 did not bound it; the batch's sum bounds the gradient before phase 2.
        /// </summary>
        public float GradientBound
        {
            get => BitConverter.Int32BitsToSingle(_block[4]);
            set => _block[4] = BitConverter.SingleToInt32Bits(value);
        }

        /// <summary>
        /// 0 for the two lists <see cref="Indices"/> and <see cref="Times"/>; otherwise the list is packed into
        /// <see cref="Indices"/> alone with this many time bits (see <see cref="SpikeLists.CollectPacked"/>), and every
        /// time is an integer.
        /// </summary>
        public ref int PackShift => ref _block[5];

        /// <summary>Turns a packed list into the two lists (a reader that needs them: the input gradient).</summary>
        public void Unpack()
        {
            if (PackShift > 0)
            {
                SpikeLists.Unpack(Indices, Times, Count, PackShift);
                PackShift = 0;
            }
        }

        /// <summary>The two lists (<see cref="PackShift"/> 0) for the scatters: the first <see cref="Count"/> entries.</summary>
        public TwoLists Lists => new(Indices[..Count], Times);

        /// <summary>The packed list (<see cref="PackShift"/> above 0) for the scatters: the first <see cref="Count"/> entries.</summary>
        public PackedList Packed => new(Indices[..Count], PackShift);

        /// <summary>The spiking inputs, increasing, with <see cref="SpikeLists.IndexSlack"/> ints of slack (see <see cref="PackShift"/>).</summary>
        public Span<int> Indices => _block.Slice(HeaderLength, _listLength);

        /// <summary>Their times truncated to integers, at the same positions.</summary>
        public Span<int> Times => _block.Slice(HeaderLength + _listLength, _listLength);
    }

    /// <summary>Sample <c>b</c>'s four backward planes, each <c>[T, outStride]</c>.</summary>
    private readonly ref struct SamplePlanes
    {
        public SamplePlanes(Span<float> all, int sample, int plane)
        {
            var mine = all.Slice(sample * BackwardPlaneCount * plane, BackwardPlaneCount * plane);
            Ga = mine[..plane];
            Gb = mine.Slice(plane, plane);
            Gk = mine.Slice(2 * plane, plane);
            Gs = mine.Slice(3 * plane, plane);
        }

        /// <summary><c>V0 GA</c>: the reverse recurrence with <c>exp(-1/tau)</c>.</summary>
        public Span<float> Ga { get; }

        /// <summary><c>V0 GB</c>: the reverse recurrence with <c>exp(-1/tauS)</c>.</summary>
        public Span<float> Gb { get; }

        /// <summary><c>V0 (GA - GB)</c>: the <c>dW</c> factor of an integer-time spike.</summary>
        public Span<float> Gk { get; }

        /// <summary><c>V0 (GA/tau - GB/tauS)</c>: the input-gradient factor of an integer-time spike.</summary>
        public Span<float> Gs { get; }
    }
}
