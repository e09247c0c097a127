using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TimingBased.Neurons.Kernels;

/// <summary>
/// The instruction-set paths a kernel can take, narrowest first. Every kernel is a short dispatcher over named
/// path methods (<c>...Scalar</c>, <c>...Vector128</c>, <c>...Vector256</c> or <c>...Vector</c> for
/// <see cref="System.Numerics.Vector{T}"/>, <c>...Avx512</c>); the dispatcher takes the requested path as a parameter.
/// </summary>
/// <remarks>
/// The selection rule: a kernel runs the widest of its paths that is no wider than the requested one, that this CPU
/// supports, and whose precondition (for example 16-float rows) the arguments meet. The library requests
/// <see cref="KernelPaths.Best"/>; the tests request each of <see cref="KernelPaths.Supported"/> in turn, so every
/// path this CPU has runs in the default test process. Every path of a kernel gives bit-identical results.
/// </remarks>
internal enum KernelPath
{
    /// <summary>Plain loops; always available.</summary>
    Scalar = 0,

    /// <summary>128-bit vectors (SSE, AdvSimd).</summary>
    Vector128 = 1,

    /// <summary>256-bit vectors (AVX2), and <see cref="System.Numerics.Vector{T}"/> where it is this wide or narrower.</summary>
    Vector256 = 2,

    /// <summary>512-bit vectors and AVX-512 instructions (compress).</summary>
    Avx512 = 3,
}

/// <summary>Which <see cref="KernelPath"/>s this CPU supports.</summary>
internal static class KernelPaths
{
    /// <summary>Gets the widest path this CPU supports: what the library uses.</summary>
    public static KernelPath Best { get; } =
        IsSupported(KernelPath.Avx512) ? KernelPath.Avx512
        : IsSupported(KernelPath.Vector256) ? KernelPath.Vector256
        : IsSupported(KernelPath.Vector128) ? KernelPath.Vector128
        : KernelPath.Scalar;

    /// <summary>Gets every path this CPU supports, narrowest first (always including <see cref="KernelPath.Scalar"/>).</summary>
    public static IReadOnlyList<KernelPath> Supported { get; } =
        [.. Enum.GetValues<KernelPath>().Where(IsSupported)];

    /// <summary>Whether this CPU (and the runtime's settings, such as <c>DOTNET_EnableAVX512=0</c>) supports <paramref name="path"/>.</summary>
    public static bool IsSupported(KernelPath path) => path switch
    {
        KernelPath.Scalar => true,
        KernelPath.Vector128 => Vector128.IsHardwareAccelerated,
        KernelPath.Vector256 => Vector256.IsHardwareAccelerated,
        KernelPath.Avx512 => Avx512F.IsSupported && Vector512.IsHardwareAccelerated,
        _ => false,
    };

    /// <summary>
    /// The selection rule for one candidate: whether a kernel asked for <paramref name="requested"/> may run its
    /// <paramref name="candidate"/> path (no wider than requested, and supported by this CPU).
    /// </summary>
    public static bool Allows(KernelPath requested, KernelPath candidate) => requested >= candidate && IsSupported(candidate);

    /// <summary>Whether a kernel that uses AVX2 instructions directly (gathers, 8 x 8 tiles) may run on <paramref name="path"/>.</summary>
    public static bool AllowsAvx2(KernelPath path) => Allows(path, KernelPath.Vector256) && Avx2.IsSupported;

    /// <summary>Whether <see cref="System.Numerics.Vector{T}"/> kernels may run on <paramref name="path"/>: accelerated and no wider than it.</summary>
    public static bool AllowsVectorT(KernelPath path) =>
        System.Numerics.Vector.IsHardwareAccelerated && path != KernelPath.Scalar
        && System.Numerics.Vector<byte>.Count <= path switch { KernelPath.Vector128 => 16, KernelPath.Vector256 => 32, _ => 64 };
}
