using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TimingBased.Internal;

/// <summary>
/// A float buffer that starts on a cache-line (64-byte) boundary and never moves: a pinned array with the
/// leading slack skipped. The row kernels load and store 16-float rows as whole vectors; on a cache-line
/// boundary none of those accesses straddles two lines (rows off a line slow an isolated scatter kernel;
/// LOG.md), and the alignment does not depend on where the GC places an array.
/// </summary>
internal sealed class AlignedFloats
{
    private const int AlignmentBytes = 64;

    /// <summary>The largest length that fits (the alignment slack comes out of the array limit).</summary>
    public static readonly int MaxLength = Array.MaxLength - (AlignmentBytes / sizeof(float));
    private readonly float[] _array;
    private readonly int _offset;

    /// <summary>Allocates <paramref name="length"/> zeroed floats.</summary>
    public AlignedFloats(int length)
    {
        _array = GC.AllocateArray<float>(length + (AlignmentBytes / sizeof(float)), pinned: true);
        var misalignment = (int)(AddressOf(ref MemoryMarshal.GetArrayDataReference(_array)) % AlignmentBytes);
        _offset = ((AlignmentBytes - misalignment) % AlignmentBytes) / sizeof(float);
        Length = length;
    }

    /// <summary>Gets the number of floats.</summary>
    public int Length { get; }

    /// <summary>Gets the buffer.</summary>
    public Span<float> Span => _array.AsSpan(_offset, Length);

    /// <summary>Gets a reference to the first float (64-byte aligned).</summary>
    public ref float Reference => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_array), _offset);

    private static unsafe nuint AddressOf(ref float value) => (nuint)Unsafe.AsPointer(ref value);
}
