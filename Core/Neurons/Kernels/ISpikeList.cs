using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TimingBased.Neurons.Kernels;

/// <summary>
/// A spike list as the scatters read it: entry <c>k</c>'s input (a weight or gradient row) and its integer time (a bank
/// or <c>gk</c> row), in increasing input order. The scatters take it as a type argument, so the JIT compiles one copy
/// of each loop per list encoding (<see cref="TwoLists"/>, <see cref="PackedList"/>).
/// </summary>
/// <remarks>
/// A loop copies the list's state into locals once (<see cref="Entries"/>, <see cref="Times"/>, <see cref="Shift"/>)
/// and decodes each entry with the static members, so the state stays in registers: the scatters are bound by their
/// loads, and reading the state through the list each time costs one load per entry (TrainingBenchmarks and TwoLayerBenchmarks; LOG.md).
/// </remarks>
internal interface ISpikeList
{
    /// <summary>Gets the number of entries.</summary>
    int Count { get; }

    /// <summary>Gets the first entry: an input (<see cref="TwoLists"/>) or a packed entry (<see cref="PackedList"/>).</summary>
    ref int Entries { get; }

    /// <summary>Gets the first time of a time list (<see cref="TwoLists"/>), or <see cref="Entries"/>.</summary>
    ref int Times { get; }

    /// <summary>Gets the time bits of a packed entry, or 0.</summary>
    int Shift { get; }

    /// <summary>Entry <paramref name="k"/>'s input.</summary>
    static abstract int Input(ref int entries, nint k, int shift);

    /// <summary>Entry <paramref name="k"/>'s integer time; <paramref name="mask"/> is <c>2^shift - 1</c>.</summary>
    static abstract int Time(ref int entries, ref int times, nint k, int mask);

    /// <summary>
    /// What an entry is compared with for inputs below <paramref name="end"/>: <c>entries[k] &lt; Bound(end, shift)</c>
    /// exactly when entry <c>k</c>'s input is below <paramref name="end"/> (one compare per entry in phase 2).
    /// </summary>
    static abstract int Bound(int end, int shift);

    /// <summary>Moves entry <paramref name="from"/> (and its time) to position <paramref name="to"/> (the filters' compaction).</summary>
    static abstract void Move(ref int entries, ref int times, nint from, nint to);

    /// <summary>The integer times of the 16 entries from <paramref name="k"/> on; <paramref name="mask"/> is <c>2^shift - 1</c> in every lane.</summary>
    static abstract Vector512<int> Times512(ref int entries, ref int times, nuint k, Vector512<int> mask);

    /// <summary>
    /// Stores the lanes of <paramref name="keep"/>, packed to the front, from position <paramref name="at"/> on: each
    /// lane's <paramref name="input"/> (already shifted into place for a packed list) and its integer
    /// <paramref name="time"/>, in this encoding. Whole vectors (the lists' slack). AVX-512.
    /// </summary>
    static abstract void Compress512(Vector512<int> keep, Vector512<int> input, Vector512<int> time, ref int entries, ref int times, nuint at);
}

/// <summary>A spike list as two lists: the inputs and, at the same positions, their times.</summary>
internal readonly ref struct TwoLists : ISpikeList
{
    private readonly ReadOnlySpan<int> _indices;
    private readonly ReadOnlySpan<int> _times;

    /// <summary>Reads the entries of <paramref name="indices"/> and their times in <paramref name="times"/> (as long, or longer).</summary>
    public TwoLists(ReadOnlySpan<int> indices, ReadOnlySpan<int> times)
    {
        _indices = indices;
        _times = times[..indices.Length];
    }

    /// <inheritdoc/>
    public int Count => _indices.Length;

    /// <inheritdoc/>
    public ref int Entries => ref MemoryMarshal.GetReference(_indices);

    /// <inheritdoc/>
    public ref int Times => ref MemoryMarshal.GetReference(_times);

    /// <inheritdoc/>
    public int Shift => 0;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Input(ref int entries, nint k, int shift) => Unsafe.Add(ref entries, k);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Time(ref int entries, ref int times, nint k, int mask) => Unsafe.Add(ref times, k);

    /// <inheritdoc/>
    public static int Bound(int end, int shift) => end;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Move(ref int entries, ref int times, nint from, nint to)
    {
        Unsafe.Add(ref entries, to) = Unsafe.Add(ref entries, from);
        Unsafe.Add(ref times, to) = Unsafe.Add(ref times, from);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Times512(ref int entries, ref int times, nuint k, Vector512<int> mask) => Vector512.LoadUnsafe(ref times, k);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Compress512(Vector512<int> keep, Vector512<int> input, Vector512<int> time, ref int entries, ref int times, nuint at)
    {
        Avx512F.Compress(Vector512<int>.Zero, keep, input).StoreUnsafe(ref entries, at);
        Avx512F.Compress(Vector512<int>.Zero, keep, time).StoreUnsafe(ref times, at);
    }
}

/// <summary>
/// A spike list packed into one int per entry, <c>(input &lt;&lt; shift) | time</c> (see
/// <see cref="SpikeLists.CollectPacked"/>): entries increase with the input, so <c>entry &lt; (end &lt;&lt; shift)</c>
/// exactly when <c>input &lt; end</c>.
/// </summary>
internal readonly ref struct PackedList : ISpikeList
{
    private readonly ReadOnlySpan<int> _entries;

    /// <summary>Reads the entries of <paramref name="entries"/>, with <paramref name="shift"/> time bits.</summary>
    public PackedList(ReadOnlySpan<int> entries, int shift)
    {
        _entries = entries;
        Shift = shift;
    }

    /// <inheritdoc/>
    public int Count => _entries.Length;

    /// <inheritdoc/>
    public ref int Entries => ref MemoryMarshal.GetReference(_entries);

    /// <inheritdoc/>
    public ref int Times => ref MemoryMarshal.GetReference(_entries);

    /// <inheritdoc/>
    public int Shift { get; }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Input(ref int entries, nint k, int shift) => Unsafe.Add(ref entries, k) >>> shift;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Time(ref int entries, ref int times, nint k, int mask) => Unsafe.Add(ref entries, k) & mask;

    /// <inheritdoc/>
    public static int Bound(int end, int shift) => end << shift;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Move(ref int entries, ref int times, nint from, nint to) => Unsafe.Add(ref entries, to) = Unsafe.Add(ref entries, from);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Times512(ref int entries, ref int times, nuint k, Vector512<int> mask) => Vector512.LoadUnsafe(ref entries, k) & mask;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Compress512(Vector512<int> keep, Vector512<int> input, Vector512<int> time, ref int entries, ref int times, nuint at) =>
        Avx512F.Compress(Vector512<int>.Zero, keep, input | time).StoreUnsafe(ref entries, at);
}
