using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TimingBased.Neurons.Kernels;

// A spike list from an event pattern (afferent-ordered events) rather than a dense row.
internal static partial class SpikeLists
{
    /// <summary>
    /// The spike list of a pattern whose events are in strictly increasing afferent order: exactly what
    /// <see cref="Collect"/> gives for the dense row holding each time as float32 (<c>0 &lt;= (float)t &lt; window</c>,
    /// truncated time, integer flag). Returns the count; both lists must hold <c>afferents.Length + </c><see cref="IndexSlack"/> ints.
    /// </summary>
    public static int FromEvents(KernelPath path, ReadOnlySpan<int> afferents, ReadOnlySpan<double> times, float window,
        Span<int> indices, Span<int> timesOut, out bool integerTimes)
    {
        // The writes below are unchecked and their count follows the pattern's length, which a caller may have read
        // from a mutable object: checked on every call, not only in debug builds.
        if (!(times.Length == afferents.Length && indices.Length >= afferents.Length + IndexSlack && timesOut.Length >= indices.Length))
        {
            throw new InvalidOperationException("The spike lists are too short for the pattern (an internal error).");
        }

        var count = 0;
        var fractional = false;
        var k = 0;
        if (KernelPaths.AllowsAvx2(path))
        {
            FromEventsVector256(afferents, times, window, indices, timesOut, ref k, ref count, ref fractional);
        }

        for (; k < times.Length; k++)
        {
            var s = (float)times[k];
            if (s < window)
            {
                var t = (int)s; // s >= 0: truncation is the floor
                indices[count] = afferents[k];
                timesOut[count++] = t;
                fractional |= t != s;
            }
        }

        integerTimes = !fractional;
        return count;
    }

    /// <summary>Four events per step while all four are in the window (the encoder's events always are); a block that is not goes to the scalar tail's rule, one by one.</summary>
    private static void FromEventsVector256(ReadOnlySpan<int> afferents, ReadOnlySpan<double> times, float window,
        Span<int> indices, Span<int> timesOut, ref int k, ref int count, ref bool fractional)
    {
        ref var a = ref MemoryMarshal.GetReference(afferents);
        ref var t = ref MemoryMarshal.GetReference(times);
        ref var outIndex = ref MemoryMarshal.GetReference(indices);
        ref var outTime = ref MemoryMarshal.GetReference(timesOut);
        var wv = Vector128.Create(window);
        var fractionalLanes = Vector128<float>.Zero;
        for (; k <= times.Length - 4; k += 4)
        {
            var f = Avx.ConvertToVector128Single(Vector256.LoadUnsafe(ref t, (nuint)k)); // rounds as (float) does
            var inWindow = Vector128.LessThan(f, wv);
            if (!Vector128.EqualsAll(inWindow.AsInt32(), Vector128<int>.AllBitsSet))
            {
                for (var j = k; j < k + 4; j++)
                {
                    var s = (float)times[j];
                    if (s < window)
                    {
                        var ti = (int)s;
                        indices[count] = afferents[j];
                        timesOut[count++] = ti;
                        fractional |= ti != s;
                    }
                }

                continue;
            }

            var ti4 = Vector128.ConvertToInt32(f); // truncation
            Vector128.LoadUnsafe(ref a, (nuint)k).StoreUnsafe(ref outIndex, (nuint)count);
            ti4.StoreUnsafe(ref outTime, (nuint)count);
            fractionalLanes |= ~Vector128.Equals(Vector128.ConvertToSingle(ti4), f);
            count += 4;
        }

        fractional |= fractionalLanes != Vector128<float>.Zero;
    }
}
