using TimingBased.Internal;

namespace TimingBased.Tests.Internal;

/// <summary>The vectorised scans against plain loops, over lengths around the vector width.</summary>
public class SpanChecksTests
{
    [Test]
    public void MaxAbs_IsTheLargestMagnitude_OrTheFirstNonFiniteValue([Range(0, 70)] int length)
    {
        var rng = new Random(length);
        var values = TestData.Uniform(rng, length, -3f, 3f);
        var expected = values.Length == 0 ? 0f : values.Max(MathF.Abs);
        Assert.That(SpanChecks.MaxAbs(values, out var bad), Is.EqualTo(expected));
        Assert.That(bad, Is.EqualTo(-1));
        if (length == 0)
        {
            return;
        }

        foreach (var special in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            var at = rng.Next(length);
            var copy = (float[])values.Clone();
            copy[at] = special;
            copy[rng.Next(at, length)] = special; // a second one at or after the first
            Assert.That(SpanChecks.MaxAbs(copy, out bad), Is.EqualTo(float.PositiveInfinity));
            Assert.That(bad, Is.EqualTo(at), $"{special} at {at}");
        }
    }
}
