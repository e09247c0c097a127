using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TimingBased.Neurons.Kernels;

// The filters of a spike list by time, in place, for two lists and for a packed one; and unpacking.
internal static partial class SpikeLists
{
    /// <summary>
    /// Keeps, in order and in place, those of the first <paramref name="count"/> entries of the paired lists whose
    /// time is below <paramref name="limit"/>; returns how many were kept. A vector store covers
    /// <c>kept .. kept + width - 1</c> with <c>kept &lt;= k</c>: it never reaches an entry not yet loaded, nor past
    /// <paramref name="count"/> plus the slack.
    /// </summary>
    public static int KeepEarlierThan(KernelPath path, Span<int> indices, Span<int> times, int count, int limit)
    {
        Debug.Assert(indices.Length >= count && times.Length >= count);
        var kept = 0;
        var k = 0;
        if (KernelPaths.Allows(path, KernelPath.Avx512))
        {
            KeepEarlierThanAvx512(indices, times, count, limit, ref k, ref kept);
        }

        if (KernelPaths.Allows(path, KernelPath.Vector256))
        {
            KeepEarlierThanVector256(indices, times, count, limit, ref k, ref kept);
        }

        return KeepEarlierThanScalar(indices, times, count, limit, k, kept);
    }

    private static void KeepEarlierThanAvx512(Span<int> indices, Span<int> times, int count, int limit, ref int k, ref int kept)
    {
        ref var indexRef = ref MemoryMarshal.GetReference(indices);
        ref var timeRef = ref MemoryMarshal.GetReference(times);
        var limit512 = Vector512.Create(limit);
        for (; k <= count - Vector512<int>.Count; k += Vector512<int>.Count)
        {
            var t = Vector512.LoadUnsafe(ref timeRef, (nuint)k);
            var keep = Vector512.LessThan(t, limit512);
            Avx512F.Compress(Vector512<int>.Zero, keep, Vector512.LoadUnsafe(ref indexRef, (nuint)k)).StoreUnsafe(ref indexRef, (nuint)kept);
            Avx512F.Compress(Vector512<int>.Zero, keep, t).StoreUnsafe(ref timeRef, (nuint)kept);
            kept += BitOperations.PopCount(Vector512.ExtractMostSignificantBits(keep));
        }
    }

    private static void KeepEarlierThanVector256(Span<int> indices, Span<int> times, int count, int limit, ref int k, ref int kept)
    {
        ref var indexRef = ref MemoryMarshal.GetReference(indices);
        ref var timeRef = ref MemoryMarshal.GetReference(times);
        ref var table = ref MemoryMarshal.GetArrayDataReference(_compactionTable);
        var limitV = Vector256.Create(limit);
        for (; k <= count - Vector256<int>.Count; k += Vector256<int>.Count)
        {
            var t = Vector256.LoadUnsafe(ref timeRef, (nuint)k);
            var i = Vector256.LoadUnsafe(ref indexRef, (nuint)k);
            var bits = Vector256.ExtractMostSignificantBits(Vector256.LessThan(t, limitV));
            var lanes = Vector256.LoadUnsafe(ref table, bits * 8);
            Vector256.ShuffleNative(t, lanes).StoreUnsafe(ref timeRef, (nuint)kept);
            Vector256.ShuffleNative(i, lanes).StoreUnsafe(ref indexRef, (nuint)kept);
            kept += BitOperations.PopCount(bits);
        }
    }

    private static int KeepEarlierThanScalar(Span<int> indices, Span<int> times, int count, int limit, int k, int kept)
    {
        ref var indexRef = ref MemoryMarshal.GetReference(indices);
        ref var timeRef = ref MemoryMarshal.GetReference(times);
        for (; k < count; k++)
        {
            var t = Unsafe.Add(ref timeRef, k);
            if (t < limit)
            {
                Unsafe.Add(ref timeRef, kept) = t;
                Unsafe.Add(ref indexRef, kept) = Unsafe.Add(ref indexRef, k);
                kept++;
            }
        }

        return kept;
    }

    /// <summary>
    /// <see cref="KeepEarlierThan"/> for a packed list (see <see cref="CollectPacked"/>): keeps, in order and in place,
    /// the first <paramref name="count"/> entries whose time is below <paramref name="limit"/>; returns how many.
    /// </summary>
    public static int KeepPackedEarlierThan(KernelPath path, Span<int> packed, int count, int limit, int shift)
    {
        Debug.Assert(packed.Length >= count);
        ref var p = ref MemoryMarshal.GetReference(packed);
        var mask = (1 << shift) - 1;
        var kept = 0;
        var k = 0;
        if (KernelPaths.Allows(path, KernelPath.Avx512))
        {
            var limit512 = Vector512.Create(limit);
            var mask512 = Vector512.Create(mask);
            for (; k <= count - Vector512<int>.Count; k += Vector512<int>.Count)
            {
                var entries = Vector512.LoadUnsafe(ref p, (nuint)k);
                var keep = Vector512.LessThan(entries & mask512, limit512);
                Avx512F.Compress(Vector512<int>.Zero, keep, entries).StoreUnsafe(ref p, (nuint)kept);
                kept += BitOperations.PopCount(Vector512.ExtractMostSignificantBits(keep));
            }
        }

        for (; k < count; k++)
        {
            var entry = Unsafe.Add(ref p, k);
            if ((entry & mask) < limit)
            {
                Unsafe.Add(ref p, kept++) = entry;
            }
        }

        return kept;
    }

    /// <summary>Writes the first <paramref name="count"/> packed entries of <paramref name="indices"/> (see <see cref="CollectPacked"/>) back as an index list and a time list, in place.</summary>
    public static void Unpack(Span<int> indices, Span<int> times, int count, int shift)
    {
        Debug.Assert(indices.Length >= count && times.Length >= count);
        var mask = (1 << shift) - 1;
        for (var k = 0; k < count; k++)
        {
            var p = indices[k];
            times[k] = p & mask;
            indices[k] = p >>> shift;
        }
    }
}
