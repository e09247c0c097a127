using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TimingBased.Neurons.Kernels;

/// <summary>
/// A spike list as the scatters read it: entry <c>k</c>'s input (a weight or gradient row) and its integer time (a bank
/// or <c>gk</c> row), in increasing input order. The scatters take it as a type argument, so the JIT compiles one copy
/// of each loop per list encoding (<see cref="TwoLists"/>, <see cref="PackedList"/>).
/// </summary>
internal interface ISpikeList
{
    /// <summary>Gets the number of entries.</summary>
    int Count { get; }

    /// <summary>Entry <paramref name="k"/>'s input.</summary>
    int Input(nint k);

    /// <summary>Entry <paramref name="k"/>'s integer time.</summary>
    int Time(nint k);

    /// <summary>
    /// Whether entry <paramref name="k"/>'s input is below the input whose <see cref="Bound"/> is <paramref name="bound"/>:
    /// one compare per entry in phase 2's loops.
    /// </summary>
    bool IsBelow(nint k, int bound);

    /// <summary>What <see cref="IsBelow"/> compares with for inputs below <paramref name="end"/>.</summary>
    int Bound(int end);
}

/// <summary>A spike list as two lists: the inputs and, at the same positions, their times.</summary>
internal readonly ref struct TwoLists : ISpikeList
{
    private readonly ReadOnlySpan<int> _indices;
    private readonly ReadOnlySpan<int> _times;

    /// <summary>Reads the entries of <paramref name="indices"/> and <paramref name="times"/> (as long as it, or longer).</summary>
    public TwoLists(ReadOnlySpan<int> indices, ReadOnlySpan<int> times)
    {
        _indices = indices;
        _times = times[..indices.Length];
    }

    /// <inheritdoc/>
    public int Count => _indices.Length;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Input(nint k) => Unsafe.Add(ref MemoryMarshal.GetReference(_indices), k);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Time(nint k) => Unsafe.Add(ref MemoryMarshal.GetReference(_times), k);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsBelow(nint k, int bound) => Input(k) < bound;

    /// <inheritdoc/>
    public int Bound(int end) => end;
}

/// <summary>
/// A spike list packed into one int per entry, <c>(input &lt;&lt; shift) | time</c> (see
/// <see cref="SpikeLists.CollectPacked"/>): entries increase with the input, so <c>entry &lt; (end &lt;&lt; shift)</c>
/// exactly when <c>input &lt; end</c>.
/// </summary>
internal readonly ref struct PackedList : ISpikeList
{
    private readonly ReadOnlySpan<int> _entries;
    private readonly int _shift;
    private readonly int _mask;

    /// <summary>Reads the entries of <paramref name="entries"/>, with <paramref name="shift"/> time bits.</summary>
    public PackedList(ReadOnlySpan<int> entries, int shift)
    {
        _entries = entries;
        _shift = shift;
        _mask = (1 << shift) - 1;
    }

    /// <inheritdoc/>
    public int Count => _entries.Length;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Input(nint k) => Entry(k) >>> _shift;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Time(nint k) => Entry(k) & _mask;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsBelow(nint k, int bound) => Entry(k) < bound;

    /// <inheritdoc/>
    public int Bound(int end) => end << _shift;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Entry(nint k) => Unsafe.Add(ref MemoryMarshal.GetReference(_entries), k);
}
