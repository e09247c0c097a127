namespace TimingBased.Neurons.Kernels;

/// <summary>
/// Switches that turn each kernel variant off in favour of its simpler sibling, so that a variant can be measured
/// against that sibling in one run (<c>Benchmarks/VariantBenchmarks.cs</c>) and tested to give the same bits. The
/// library leaves every one on.
/// </summary>
/// <remarks>
/// Each switch is read once per kernel call, never inside a loop. They are process-wide: set them before any work
/// starts and not while a model is in use (the results are the same bits either way; only the path changes).
/// </remarks>
internal static class KernelVariants
{
    /// <summary>
    /// Packed spike lists on AVX-512: the grouped forward collects one int per spike, <c>(input &lt;&lt; bits) | time</c>,
    /// and the tile scatter, the backward's filter and phase 2 read it. Off: two lists.
    /// </summary>
    public static bool PackedLists { get; set; } = true;

    /// <summary>
    /// The wide layer's forward by groups of samples, one 16-float column tile at a time, and the backward's work on
    /// single tiles. Off: sample by sample at full width.
    /// </summary>
    public static bool Tiles { get; set; } = true;

    /// <summary>Two samples' tile scatters interleaved, and their tile recurrences in one loop. Off: one sample after the other.</summary>
    public static bool Pairs { get; set; } = true;

    /// <summary>512-bit row adds in the tile scatter and phase 2 on AVX-512. Off: 256-bit adds (two per 16-float row).</summary>
    public static bool Adds512 { get; set; } = true;

    /// <summary>Plain SGD's commit skipping the lanes whose gradient is +0 (a masked store, AVX-512). Off: every lane written.</summary>
    public static bool MaskedCommit { get; set; } = true;

    /// <summary>The spike collection's 128-bit path, where 256-bit vectors are not available. Off: the scalar collection.</summary>
    public static bool Collect128 { get; set; } = true;

    /// <summary>
    /// A public backward's dead outputs (no sample gives them an upstream gradient) cleared in the caller's <c>[out, in]</c>
    /// gradient instead of transposed, and the live ones of a group with a dead one gathered output by output. Off: every
    /// block transposed whole.
    /// </summary>
    public static bool LiveOutputs { get; set; } = true;

    /// <summary>Restores every switch to on.</summary>
    public static void Reset()
    {
        PackedLists = true;
        Tiles = true;
        Pairs = true;
        Adds512 = true;
        MaskedCommit = true;
        Collect128 = true;
        LiveOutputs = true;
    }
}
