using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;
using TimingBased.Internal;
using TimingBased.Neurons.Kernels;

namespace TimingBased.Encoding;

/// <summary>
/// Encodes real values as spike times with Gaussian receptive fields: each of <see cref="N"/> input
/// dimensions is covered by <see cref="M"/> overlapping Gaussian neurons, and a value becomes the
/// <see cref="M"/> firing times of its dimension's neurons (Bohte, Kok &amp; La Poutré 2002).
/// </summary>
/// <remarks>
/// <para>
/// Computes, in float32 and in the same order as SpikingJelly's
/// <c>spikingjelly.timing_based.encoding.GaussianTuning</c>:
/// <c>mu[i,j] = xMin[i] + ((2j - 3) / (2(m - 2))) * range[i]</c> for <c>j = 1..m</c>,
/// <c>sigma2[i,j] = (range[i] / (1.5 (m - 2)))²</c> with <c>range = xMax - xMin</c>, and for every input value
/// <c>y = exp(-(x - mu)² / (2 sigma2))</c>, <c>t = round(maxSpikeTime (1 - y))</c> with rounding half to even
/// (as <c>torch.round</c>); <c>t &gt;= maxSpikeTime</c> becomes <c>-1</c> (the neuron does not spike).
/// </para>
/// <para>
/// Reference: S. M. Bohte, J. N. Kok, H. La Poutré, "Error-backpropagation in temporally encoded
/// networks of spiking neurons", Neurocomputing 48 (2002) 17–37.
/// </para>
/// <para>
/// Thread safety: an instance is immutable after construction and may be shared by any number of
/// threads; <see cref="Encode(ReadOnlySpan{float}, int, int, Span{float})"/> allocates nothing after its first call
/// on a thread (which creates the thread's 76 KB row cache).
/// </para>
/// </remarks>
public sealed partial class GaussianTuning
{
    /// <summary>The default <c>maxSpikeTime</c> of <see cref="Encode(ReadOnlySpan{float}, int, int, Span{float})"/>: 50.</summary>
    public const int DefaultMaxSpikeTime = 50;

    /// <summary>The value a <c>maxSpikeTime</c> of 0 stands for: 100 (SpikingJelly's historical fallback).</summary>
    public const int FallbackMaxSpikeTime = 100;

    /// <summary>The largest accepted <c>maxSpikeTime</c>: 2^24, above which spike times are no longer exact floats.</summary>
    public const int MaxMaxSpikeTime = 1 << 24;

    /// <summary>The sharpness of the tuning curves, as in the paper and SpikingJelly: 1.5.</summary>
    public const float Beta = 1.5f;

    private readonly float[] _mu;
    private readonly float[] _sigma2;
    private readonly float[] _twoSigma2;

    /// <summary>Creates an encoder for <paramref name="n"/> input dimensions with <paramref name="m"/> neurons each.</summary>
    /// <param name="n">The number of input dimensions (channels); at least 1.</param>
    /// <param name="m">The number of neurons per dimension; at least 3.</param>
    /// <param name="xMin">The lower bound of each dimension, shape <c>[n]</c>; finite.</param>
    /// <param name="xMax">The upper bound of each dimension, shape <c>[n]</c>; finite and greater than <paramref name="xMin"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> &lt; 1 or <paramref name="m"/> &lt;= 2.</exception>
    /// <exception cref="ArgumentException">
    /// A bound span is not of length <paramref name="n"/>; a bound is not finite; <c>xMin[i] &gt;= xMax[i]</c>;
    /// or a range is so large or so small that its centres or widths are not finite and positive in float32.
    /// </exception>
    public GaussianTuning(int n, int m, ReadOnlySpan<float> xMin, ReadOnlySpan<float> xMax)
    {
        if (n < 1)
        {
            ThrowHelper.SizeTooSmall(nameof(n), n, 1);
        }

        if (m <= 2)
        {
            ThrowHelper.SizeTooSmall(nameof(m), m, 3);
        }

        if (xMin.Length != n)
        {
            ThrowHelper.LengthMismatch(nameof(xMin), "[n]", n, xMin.Length);
        }

        if (xMax.Length != n)
        {
            ThrowHelper.LengthMismatch(nameof(xMax), "[n]", n, xMax.Length);
        }

        long size = SpanChecks.Product(n, m);
        if (size > Array.MaxLength)
        {
            ThrowHelper.ElementRule(nameof(m), string.Create(CultureInfo.InvariantCulture,
                $"n * m = {size} exceeds the largest array length."));
        }

        _mu = new float[size];
        _sigma2 = new float[size];
        _twoSigma2 = new float[size];
        float denominator = 2 * (m - 2);
        float widthDenominator = Beta * (m - 2);
        for (var i = 0; i < n; i++)
        {
            float lo = xMin[i], hi = xMax[i];
            if (!float.IsFinite(lo))
            {
                ThrowHelper.NotFiniteAt(nameof(xMin), Index(i), lo);
            }

            if (!float.IsFinite(hi))
            {
                ThrowHelper.NotFiniteAt(nameof(xMax), Index(i), hi);
            }

            if (!(lo < hi))
            {
                ThrowHelper.ElementRule(nameof(xMin), string.Create(CultureInfo.InvariantCulture,
                    $"xMin[{i}] must be less than xMax[{i}]; they are {lo:R} and {hi:R}."));
            }

            var range = hi - lo;
            var w = range / widthDenominator;
            var sigma2 = w * w;
            if (!float.IsFinite(range) || !(sigma2 > 0) || !float.IsFinite(sigma2 + sigma2))
            {
                ThrowHelper.ElementRule(nameof(xMax), string.Create(CultureInfo.InvariantCulture,
                    $"xMax[{i}] - xMin[{i}] = {range:R} gives a variance {sigma2:R} that is not finite and positive in float32."));
            }

            for (var j = 1; j <= m; j++)
            {
                var k = (i * m) + j - 1;
                // SpikingJelly: in_min + ((2 * indices - 3) / (2 * (m - 2))) * in_range, all float32.
                _mu[k] = lo + ((((2 * j) - 3) / denominator) * range);
                _sigma2[k] = sigma2;
                _twoSigma2[k] = 2 * sigma2;
            }
        }

        N = n;
        M = m;
    }

    /// <summary>Gets the number of input dimensions (channels).</summary>
    public int N { get; }

    /// <summary>Gets the number of neurons per input dimension.</summary>
    public int M { get; }

    /// <summary>
    /// Gets or sets the widest instruction-set path the encoder may take (default <see cref="KernelPaths.Best"/>); tests
    /// set each supported path in turn. Every path gives the same bits.
    /// </summary>
    internal KernelPath Path { get; set; } = KernelPaths.Best;

    /// <summary>Whether a value's <paramref name="m"/> neurons are computed in <see cref="Vector{T}"/>s on <see cref="Path"/>.</summary>
    private bool UsesVectors(int m) => KernelPaths.AllowsVectorT(Path) && m >= Vector<float>.Count;

    /// <summary>Gets the centres <c>mu</c>, shape <c>[n, m]</c> row-major.</summary>
    public ReadOnlySpan<float> Mu => _mu;

    /// <summary>Gets the variances <c>sigma2</c>, shape <c>[n, m]</c> row-major (equal along each row).</summary>
    public ReadOnlySpan<float> Sigma2 => _sigma2;

    /// <summary>
    /// Encodes <paramref name="x"/> of shape <c>[batch, n, samples]</c> into spike times of shape
    /// <c>[batch, n, samples, m]</c> in SpikingJelly's default window (<see cref="DefaultMaxSpikeTime"/>); see the overload
    /// with <c>maxSpikeTime</c>.
    /// </summary>
    /// <param name="x">The input, shape <c>[batch, n, samples]</c> row-major.</param>
    /// <param name="batchSize">The batch size; at least 1.</param>
    /// <param name="destination">Receives the spike times, shape <c>[batch, n, samples, m]</c>; only its first <c>x.Length * m</c> elements are written.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> &lt; 1.</exception>
    /// <exception cref="ArgumentException">A length is wrong, or <paramref name="x"/> holds a NaN.</exception>
    public void Encode(ReadOnlySpan<float> x, int batchSize, Span<float> destination) => Encode(x, batchSize, DefaultMaxSpikeTime, destination);

    /// <summary>Encodes <paramref name="x"/> of shape <c>[batch, n, samples]</c> into spike times of shape <c>[batch, n, samples, m]</c>.</summary>
    /// <param name="x">The input, shape <c>[batch, n, samples]</c> row-major. <c>±Infinity</c> is valid and encodes as silence (-1).</param>
    /// <param name="batchSize">The batch size; at least 1. <c>samples = x.Length / (batchSize * n)</c>.</param>
    /// <param name="maxSpikeTime">
    /// The time window; spike times are integers in <c>[0, maxSpikeTime)</c> and later ones become -1.
    /// 0 stands for 100, as in SpikingJelly. In <c>[0, 2^24]</c>.
    /// </param>
    /// <param name="destination">Receives the spike times, shape <c>[batch, n, samples, m]</c>; only its first <c>x.Length * m</c> elements are written.</param>
    /// <remarks>
    /// Computes <c>t = round(maxSpikeTime (1 - exp(-(x - mu)² / (2 sigma2))))</c>, rounding half to even, and
    /// <c>-1</c> where <c>t &gt;= maxSpikeTime</c>. Vectorised over the <c>m</c> neurons of a value; the
    /// exponential is skipped (exactly: the result is -1 either way) for neurons so far from the value that
    /// <c>(x - mu)² / (2 sigma2) &gt; ln(4 maxSpikeTime) + 1</c>. A value met again in the same call and channel (an
    /// image's pixel levels: at most 256 in MNIST) copies the row computed for it, the same bits, from a per-thread
    /// cache that lives for one call (<c>m &lt;= 64</c>; a call whose values rarely repeat stops using it after 1,024
    /// misses). Allocates nothing after the first call on a thread, which creates that cache (76 KB).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> &lt; 1 or <paramref name="maxSpikeTime"/> outside <c>[0, 2^24]</c>.</exception>
    /// <exception cref="ArgumentException">
    /// The length of <paramref name="x"/> is not a positive multiple of <c>batchSize * n</c>; <paramref name="destination"/>
    /// is too short; or <paramref name="x"/> holds a NaN (the message gives its (batch, channel, sample) coordinate).
    /// </exception>
    public void Encode(ReadOnlySpan<float> x, int batchSize, int maxSpikeTime, Span<float> destination)
    {
        var samples = ValidateInput(x, batchSize, maxSpikeTime);
        var n = N;
        var m = M;
        var required = SpanChecks.Product(x.Length, m);
        if (destination.Length < required) // SpanChecks.Destination's rule, open-coded so the shape string is built only on failure
        {
            ThrowHelper.DestinationTooShort(nameof(destination), Shape(batchSize, n, samples, m), required, destination.Length);
        }

        ThrowIfNaN(x, samples);

        if (maxSpikeTime == 0)
        {
            maxSpikeTime = FallbackMaxSpikeTime;
        }

        float tMax = maxSpikeTime;
        var qCut = (float)(Math.Log(4.0 * maxSpikeTime) + 1.0);
        var cache = m <= RowCache.MaxM ? (_rowCache ??= new RowCache()).Begin(m) : null;
        var vectorized = UsesVectors(m);
        for (var row = 0; row < batchSize * n; row++)
        {
            var c = row % n;
            EncodeRow(
                vectorized,
                x.Slice(row * samples, samples),
                new ReadOnlySpan<float>(_mu, c * m, m),
                new ReadOnlySpan<float>(_twoSigma2, c * m, m),
                destination.Slice(row * samples * m, samples * m),
                tMax,
                qCut,
                cache,
                c);
        }
    }

    /// <summary>Checks the batch size, the window and that <paramref name="x"/> is <c>[batch, n, samples]</c>; returns <c>samples</c>.</summary>
    private int ValidateInput(ReadOnlySpan<float> x, int batchSize, int maxSpikeTime)
    {
        if (batchSize < 1)
        {
            ThrowHelper.SizeTooSmall(nameof(batchSize), batchSize, 1);
        }

        if (maxSpikeTime is < 0 or > MaxMaxSpikeTime)
        {
            ThrowHelper.IntOutOfRange(nameof(maxSpikeTime), maxSpikeTime, 0, MaxMaxSpikeTime);
        }

        var rowLength = SpanChecks.Product(batchSize, N);
        if (x.Length == 0 || x.Length % rowLength != 0)
        {
            ThrowHelper.NotPositiveMultiple(nameof(x), "[batch, n, samples]", x.Length, rowLength, "batchSize * n");
        }

        return (int)(x.Length / rowLength);
    }

    /// <summary>Throws naming the (batch, channel, sample) of the first NaN in <paramref name="x"/>, if any.</summary>
    private void ThrowIfNaN(ReadOnlySpan<float> x, int samples)
    {
        var nanAt = SpanChecks.IndexOfNaN(x);
        if (nanAt >= 0)
        {
            ThrowHelper.NaNAt(nameof(x), string.Create(CultureInfo.InvariantCulture,
                $"(batch {nanAt / samples / N}, channel {nanAt / samples % N}, sample {nanAt % samples})"));
        }
    }

    /// <summary>Encodes a tensor of shape <c>[batch, n, samples]</c> into a new tensor of shape <c>[batch, n, samples, m]</c>.</summary>
    /// <param name="x">The input, rank 3 with <c>Lengths[1] == n</c>; any strides.</param>
    /// <param name="maxSpikeTime">As in <see cref="Encode(ReadOnlySpan{float}, int, int, Span{float})"/>.</param>
    /// <returns>A new dense tensor with the spike times.</returns>
    /// <remarks>A convenience wrapper over the span overload: it allocates the input copy and the result.</remarks>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not of rank 3 with <c>n</c> channels, is empty, or holds a NaN.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSpikeTime"/> outside <c>[0, 2^24]</c>.</exception>
    public Tensor<float> Encode(in ReadOnlyTensorSpan<float> x, int maxSpikeTime = DefaultMaxSpikeTime)
    {
        if (x.Rank != 3 || x.Lengths[1] != N || x.FlattenedLength == 0)
        {
            ThrowHelper.TensorShape(nameof(x), string.Create(CultureInfo.InvariantCulture, $"[batch, {N}, samples] with batch, samples >= 1"), x.Lengths);
        }

        var input = new float[x.FlattenedLength];
        x.FlattenTo(input);
        var output = new float[input.Length * (long)M];
        Encode(input, (int)x.Lengths[0], maxSpikeTime, output);
        return Tensor.Create(output, [x.Lengths[0], x.Lengths[1], x.Lengths[2], M]);
    }

    private static string Index(int i) => string.Create(CultureInfo.InvariantCulture, $"index {i}");

    private static string Shape(int batch, int n, int samples, int m) =>
        string.Create(CultureInfo.InvariantCulture, $"[batch {batch}, n {n}, samples {samples}, m {m}]");
}
