using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TimingBased.Internal;

namespace TimingBased.Tests.Internal;

public class AlignedFloatsTests
{
    [TestCase(0)]
    [TestCase(1)]
    [TestCase(15)]
    [TestCase(16)]
    [TestCase(1000)]
    [TestCase(100_000)]
    public void StartsOnACacheLine_IsZeroed_AndHasTheLength(int length)
    {
        for (var k = 0; k < 8; k++)
        {
            var buffer = new AlignedFloats(length);
            var address = (nuint)Unsafe.ByteOffset(ref Unsafe.NullRef<float>(), ref buffer.Reference); // the buffer is pinned

            Assert.That((ulong)(address % 64), Is.EqualTo(0UL));
            Assert.That(buffer.Span.Length, Is.EqualTo(length));
            Assert.That(buffer.Span.ToArray(), Is.All.Zero);
            Assert.That(Unsafe.AreSame(ref buffer.Reference, ref MemoryMarshal.GetReference(buffer.Span)), Is.True);
            _ = new float[k + 1]; // shift the next allocation
        }
    }
}
