using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TimingBased.Neurons.Kernels;

// The filters of a spike list by time, in place, for two lists and for a packed one; and unpacking.
internal static partial class SpikeLists
{
    /// <summary>
    /// Keeps, in order and in place, those of the first <paramref name="count"/> entries of the paired lists whose
    /// time is below <paramref name="limit"/>; returns how many were kept.
    /// </summary>
    public static int KeepEarlierThan(KernelPath path, Span<int> indices, Span<int> times, int count, int limit) =>
        KeepEarlierThan<TwoLists>(path, indices, times, count, limit, shift: 0);

    /// <summary>
    /// <see cref="KeepEarlierThan(KernelPath, Span{int}, Span{int}, int, int)"/> for a packed list (see
    /// <see cref="CollectPacked"/>, <paramref name="shift"/> time bits): keeps, in order and in place, the first
    /// <paramref name="count"/> entries whose time is below <paramref name="limit"/>; returns how many.
    /// </summary>
    public static int KeepPackedEarlierThan(KernelPath path, Span<int> packed, int count, int limit, int shift) =>
        KeepEarlierThan<PackedList>(path, packed, packed, count, limit, shift);

    /// <summary>
    /// The filter by time for either list encoding: 16 entries per step on AVX-512 (<see cref="ISpikeList.Compress512"/>),
    /// then 8 per step for two lists on 256-bit vectors (a packed list is AVX-512 only), then one by one. A vector
    /// store covers <c>kept .. kept + width - 1</c> with <c>kept &lt;= k</c>: it never reaches an entry not yet loaded,
    /// nor past <paramref name="count"/> plus the slack.
    /// </summary>
    private static int KeepEarlierThan<TList>(KernelPath path, Span<int> entries, Span<int> times, int count, int limit, int shift)
        where TList : ISpikeList, allows ref struct
    {
        if ((uint)count > (uint)entries.Length || count > times.Length)
        {
            Internal.ThrowHelper.InternalBound("spike list count"); // the loops read and write by reference
        }
        ref var entryRef = ref MemoryMarshal.GetReference(entries);
        ref var timeRef = ref MemoryMarshal.GetReference(times);
        var mask = (1 << shift) - 1;
        var kept = 0;
        var k = 0;
        if (KernelPaths.Allows(path, KernelPath.Avx512))
        {
            var limit512 = Vector512.Create(limit);
            var mask512 = Vector512.Create(mask);
            for (; k <= count - Vector512<int>.Count; k += Vector512<int>.Count)
            {
                var time = TList.Times512(ref entryRef, ref timeRef, (nuint)k, mask512);
                var keep = Vector512.LessThan(time, limit512);
                TList.Compress512(keep, Vector512.LoadUnsafe(ref entryRef, (nuint)k), time, ref entryRef, ref timeRef, (nuint)kept);
                kept += BitOperations.PopCount(Vector512.ExtractMostSignificantBits(keep));
            }
        }

        if (shift == 0 && KernelPaths.Allows(path, KernelPath.Vector256))
        {
            KeepEarlierThanVector256(entries, times, count, limit, ref k, ref kept);
        }

        for (; k < count; k++)
        {
            if (TList.Time(ref entryRef, ref timeRef, k, mask) < limit)
            {
                TList.Move(ref entryRef, ref timeRef, k, kept++);
            }
        }

        return kept;
    }

    /// <summary>The two lists' filter 8 entries per step: the mask's table row lists the kept lanes first (branch-free compaction).</summary>
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
