using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TimingBased.Neurons.Kernels;

/// <summary>
/// Operations on rows of <c>outStride</c> floats (one row per time step or per input, one column per output):
/// adds, scaled adds, dot products and column reductions. Each has a <see cref="Vector{T}"/> path and a scalar path.
/// </summary>
/// <remarks>
/// Precondition of the vector paths: the row length is a whole number of <see cref="Vector{T}"/>s, which the
/// Tempotron's row stride guarantees (<see cref="OutStride"/>); asserted in debug builds. The scalar paths take any
/// length. A caller decides the path once per call (<see cref="UseVector"/>), not per row.
/// </remarks>
internal static class RowOps
{
    /// <summary>Floats per column tile of a wide layer: one 64-byte cache line, two 256-bit vectors (see <see cref="OutStride"/>).</summary>
    public const int TileWidth = 16;

    /// <summary>
    /// The row stride for <paramref name="outFeatures"/> outputs: a multiple of the <see cref="Vector{T}"/> width, and
    /// above <see cref="TileWidth"/> outputs a multiple of it too, so that each row of a 64-byte-aligned matrix starts
    /// on a cache line and splits into whole column tiles (the wide forward works tile by tile); the count itself
    /// without vectors.
    /// </summary>
    public static int OutStride(int outFeatures)
    {
        if (!Vector.IsHardwareAccelerated)
        {
            return outFeatures;
        }

        var w = outFeatures > TileWidth ? Math.Max(Vector<float>.Count, TileWidth) : Vector<float>.Count;
        return (outFeatures + w - 1) / w * w;
    }

    /// <summary>Whether the <see cref="Vector{T}"/> paths run for <paramref name="path"/> and rows of <paramref name="length"/> floats.</summary>
    public static bool UseVector(KernelPath path, int length) =>
        KernelPaths.AllowsVectorT(path) && length % Vector<float>.Count == 0;

    /// <summary><c>destination[k] += source[k]</c> for <c>k &lt; length</c>, over references.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add(bool vector, ref float destination, ref float source, int length)
    {
        if (vector)
        {
            AddVector(ref destination, ref source, length);
        }
        else
        {
            AddScalar(ref destination, ref source, length);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddVector(ref float destination, ref float source, int length)
    {
        Debug.Assert(length % Vector<float>.Count == 0);
        if (length == 2 * Vector<float>.Count)
        {
            // The common row (9 to 16 outputs on AVX2): two vectors, no loop.
            (Vector.LoadUnsafe(ref destination) + Vector.LoadUnsafe(ref source)).StoreUnsafe(ref destination);
            var half = (nuint)Vector<float>.Count;
            (Vector.LoadUnsafe(ref destination, half) + Vector.LoadUnsafe(ref source, half)).StoreUnsafe(ref destination, half);
            return;
        }

        for (nuint k = 0; k < (nuint)length; k += (nuint)Vector<float>.Count)
        {
            (Vector.LoadUnsafe(ref destination, k) + Vector.LoadUnsafe(ref source, k)).StoreUnsafe(ref destination, k);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddScalar(ref float destination, ref float source, int length)
    {
        for (var k = 0; k < length; k++)
        {
            Unsafe.Add(ref destination, k) += Unsafe.Add(ref source, k);
        }
    }

    /// <summary><c>destination[k] += scale * source[k]</c>.</summary>
    public static void AddScaled(bool vector, Span<float> destination, ReadOnlySpan<float> source, float scale)
    {
        Debug.Assert(source.Length >= destination.Length);
        if (vector)
        {
            Debug.Assert(destination.Length % Vector<float>.Count == 0);
            ref var d = ref MemoryMarshal.GetReference(destination);
            ref var s = ref MemoryMarshal.GetReference(source);
            var sv = new Vector<float>(scale);
            for (nuint k = 0; k < (nuint)destination.Length; k += (nuint)Vector<float>.Count)
            {
                (Vector.LoadUnsafe(ref d, k) + (sv * Vector.LoadUnsafe(ref s, k))).StoreUnsafe(ref d, k);
            }

            return;
        }

        for (var k = 0; k < destination.Length; k++)
        {
            destination[k] += scale * source[k];
        }
    }

    /// <summary><c>destination[k] += sa * a[k] - sb * b[k]</c> (a rare path: non-integer spike times in phase 2; scalar only).</summary>
    public static void AddCombination(Span<float> destination, ReadOnlySpan<float> a, float sa, ReadOnlySpan<float> b, float sb)
    {
        for (var k = 0; k < destination.Length; k++)
        {
            destination[k] += (sa * a[k]) - (sb * b[k]);
        }
    }

    /// <summary>Returns <c>sum_k a[k] b[k]</c>; the vector path sums per lane, then across lanes.</summary>
    public static float Dot(bool vector, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (vector)
        {
            Debug.Assert(a.Length % Vector<float>.Count == 0 && b.Length >= a.Length);
            ref var ra = ref MemoryMarshal.GetReference(a);
            ref var rb = ref MemoryMarshal.GetReference(b);
            var acc = Vector<float>.Zero;
            for (nuint k = 0; k < (nuint)a.Length; k += (nuint)Vector<float>.Count)
            {
                acc += Vector.LoadUnsafe(ref ra, k) * Vector.LoadUnsafe(ref rb, k);
            }

            return Vector.Sum(acc);
        }

        var sum = 0f;
        for (var k = 0; k < a.Length; k++)
        {
            sum += a[k] * b[k];
        }

        return sum;
    }

    /// <summary>
    /// One bit per 16-float column tile of <c>[rows, outStride]</c> plane <paramref name="g"/>: bit <c>j</c> is set when
    /// some element of tile <c>j</c> in the first <paramref name="rows"/> rows is not zero (<c>-0</c> counts as zero).
    /// <paramref name="outStride"/> is a multiple of <see cref="TileWidth"/> of at most 31 tiles.
    /// </summary>
    public static int LiveTiles(KernelPath path, ReadOnlySpan<float> g, int rows, int outStride)
    {
        Debug.Assert(outStride % TileWidth == 0 && outStride / TileWidth <= 31 && g.Length >= rows * outStride);
        var tiles = outStride / TileWidth;
        var live = 0;
        var ints = MemoryMarshal.Cast<float, int>(g);
        for (var tile = 0; tile < tiles; tile++)
        {
            if (AnyNonZero(path, ints, tile * TileWidth, rows, outStride))
            {
                live |= 1 << tile;
            }
        }

        return live;
    }

    /// <summary>Whether a 16-float column (as bits) has an element other than <c>±0</c> in its first <paramref name="rows"/> rows.</summary>
    private static bool AnyNonZero(KernelPath path, ReadOnlySpan<int> bits, int column, int rows, int outStride)
    {
        const int magnitude = int.MaxValue; // every bit but the sign
        ref var r = ref MemoryMarshal.GetReference(bits);
        if (KernelPaths.AllowsVectorT(path) && TileWidth % Vector<int>.Count == 0)
        {
            var any = Vector<int>.Zero;
            for (var t = 0; t < rows; t++)
            {
                var at = (nuint)((t * outStride) + column);
                for (nuint j = 0; j < TileWidth; j += (nuint)Vector<int>.Count)
                {
                    any |= Vector.LoadUnsafe(ref r, at + j);
                }

                if (!Vector.EqualsAll(any & new Vector<int>(magnitude), Vector<int>.Zero))
                {
                    return true;
                }
            }

            return false;
        }

        for (var t = 0; t < rows; t++)
        {
            for (var j = 0; j < TileWidth; j++)
            {
                if ((bits[(t * outStride) + column + j] & magnitude) != 0)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Returns 1 + the index of the last row of <paramref name="g"/> (<c>[T, outStride]</c>) with a non-zero element, or 0 if all are zero.</summary>
    /// <remarks><c>-0</c> counts as zero; NaN does not (it must reach the gradient check).</remarks>
    public static int RowsUpToLastNonZero(bool vector, ReadOnlySpan<float> g, int outStride)
    {
        ref var rg = ref MemoryMarshal.GetReference(g);
        for (var t = (g.Length / outStride) - 1; t >= 0; t--)
        {
            var row = (nuint)(t * outStride);
            if (vector)
            {
                Debug.Assert(outStride % Vector<float>.Count == 0);
                for (nuint j = 0; j < (nuint)outStride; j += (nuint)Vector<float>.Count)
                {
                    if (!Vector.EqualsAll(Vector.LoadUnsafe(ref rg, row + j), Vector<float>.Zero))
                    {
                        return t + 1;
                    }
                }

                continue;
            }

            for (var o = 0; o < outStride; o++)
            {
                if (g[(int)row + o] != 0f)
                {
                    return t + 1;
                }
            }
        }

        return 0;
    }

    /// <summary>
    /// For every column <c>o &lt; outStride</c> of <paramref name="v"/> (<c>[T, outStride]</c>): the maximum over
    /// <c>t</c> and its first index, as <c>torch.max</c>/<c>torch.argmax</c> give them for finite values.
    /// </summary>
    public static void MaxAndArgMax(bool vector, ReadOnlySpan<float> v, int outStride, Span<float> max, Span<int> argMax)
    {
        var steps = v.Length / outStride;
        if (vector)
        {
            Debug.Assert(outStride % Vector<float>.Count == 0 && max.Length >= outStride && argMax.Length >= outStride);
            ref var rv = ref MemoryMarshal.GetReference(v);
            for (nuint j = 0; j < (nuint)outStride; j += (nuint)Vector<float>.Count)
            {
                var best = Vector.LoadUnsafe(ref rv, j);
                var arg = Vector<int>.Zero;
                for (var t = 1; t < steps; t++)
                {
                    var x = Vector.LoadUnsafe(ref rv, ((nuint)t * (nuint)outStride) + j);
                    var greater = Vector.GreaterThan(x, best); // strict: ties keep the first index
                    best = Vector.ConditionalSelect(greater, x, best);
                    arg = Vector.ConditionalSelect(greater, new Vector<int>(t), arg);
                }

                best.StoreUnsafe(ref MemoryMarshal.GetReference(max), j);
                arg.StoreUnsafe(ref MemoryMarshal.GetReference(argMax), j);
            }

            return;
        }

        for (var o = 0; o < outStride; o++)
        {
            var best = v[o];
            var arg = 0;
            for (var t = 1; t < steps; t++)
            {
                var x = v[(t * outStride) + o];
                if (x > best)
                {
                    best = x;
                    arg = t;
                }
            }

            max[o] = best;
            argMax[o] = arg;
        }
    }
}
