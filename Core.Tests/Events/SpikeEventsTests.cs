using TimingBased.Events;

namespace TimingBased.Tests.Events;

public class SpikeEventsTests
{
    [Test]
    public void Patterns_KeepTheirOrder_RecordIt_AndSortByTimeOnRequest()
    {
        var events = new SpikeEvents(5);
        events.Add(3, 2.0);
        events.Add(4, 1.0);
        events.Add(1, 2.0);
        events.Add(0, 0.0);
        events.Add(1, 1.0);
        Assert.That(events.EndPattern(), Is.Zero);
        events.AddPattern([0, 2, 4], [5.0, 1.0, 3.0]); // afferent order
        events.AddPattern([4, 0, 2], [1.0, 1.0, 3.0]); // time order
        Assert.That(events[0].Afferents.ToArray(), Is.EqualTo(new[] { 3, 4, 1, 0, 1 }), "insertion order kept");
        Assert.That((events[0].IsTimeOrdered, events[0].IsAfferentOrdered), Is.EqualTo((false, false)));
        Assert.That((events[1].IsTimeOrdered, events[1].IsAfferentOrdered), Is.EqualTo((false, true)));
        Assert.That((events[2].IsTimeOrdered, events[2].IsAfferentOrdered), Is.EqualTo((true, false)));

        events.SortByTime();
        var p = events[0];
        Assert.That(p.Times.ToArray(), Is.EqualTo(new[] { 0.0, 1.0, 1.0, 2.0, 2.0 }));
        Assert.That(p.Afferents.ToArray(), Is.EqualTo(new[] { 0, 1, 4, 1, 3 }), "equal times by afferent");
        Assert.That(events[2].Afferents.ToArray(), Is.EqualTo(new[] { 0, 4, 2 }));
        Assert.That(events[0].IsTimeOrdered && events[1].IsTimeOrdered && events[2].IsTimeOrdered, Is.True);
        Assert.That(events.Offsets.ToArray(), Is.EqualTo(new[] { 0, 5, 8, 11 }));
    }

    [Test]
    public void BadEvents_ThrowAndAddNothing()
    {
        var events = new SpikeEvents(3);
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => events.Add(3, 1))!.ParamName, Is.EqualTo("afferent"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => events.Add(-1, 1))!.ParamName, Is.EqualTo("afferent"));
        foreach (var t in new[] { double.NaN, -1e-300, double.PositiveInfinity })
        {
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => events.Add(0, t))!.ParamName, Is.EqualTo("time"));
        }

        Assert.That(Assert.Throws<ArgumentException>(() => events.AddPattern([0, 1], [1.0, double.NaN]))!.ParamName, Is.EqualTo("times"));
        Assert.That(Assert.Throws<ArgumentException>(() => events.AddPattern([0, 7], [1.0, 2.0]))!.ParamName, Is.EqualTo("afferents"));
        Assert.That(Assert.Throws<ArgumentException>(() => events.AddPattern([0], [1.0, 2.0]))!.ParamName, Is.EqualTo("times"));
        Assert.That(Assert.Throws<ArgumentException>(() => events.AddDense([1f, float.NaN, 2f]))!.ParamName, Is.EqualTo("spikes"));
        Assert.That(events.EventCount, Is.Zero);
        Assert.That(events.PatternCount, Is.Zero);
        events.Add(0, 1);
        Assert.Throws<InvalidOperationException>(() => events.AddPattern([0], [1.0]));
    }

    [Test]
    public void Dense_RoundTrips()
    {
        float[] dense = [3f, -1f, 0f, -0f, float.PositiveInfinity, 2.5f];
        var events = new SpikeEvents(3);
        events.AddDense(dense);
        Assert.That(events.PatternCount, Is.EqualTo(2));
        Assert.That(events[0].Afferents.ToArray(), Is.EqualTo(new[] { 0, 2 }), "afferent order");
        Assert.That(events[0].IsAfferentOrdered, Is.True);
        Assert.That(events[1].Afferents.ToArray(), Is.EqualTo(new[] { 0, 2 }));
        var back = new float[6];
        events.CopyToDense(back);
        Assert.That(back, Is.EqualTo(new[] { 3f, -1f, 0f, 0f, -1f, 2.5f }));
        events.Clear();
        events.AddPattern([1, 1], [1.0, 2.0]);
        Assert.That(Assert.Throws<ArgumentException>(() => events.CopyToDense(new float[3]))!.ParamName, Is.EqualTo("destination"));

        // A repeat in a later, unordered pattern: named, and nothing written.
        events.Clear();
        events.AddPattern([0, 2], [1.0, 2.0]);
        events.AddPattern([2, 0, 1, 0], [1.0, 2.0, 3.0, 4.0]);
        var untouched = Enumerable.Repeat(7f, 6).ToArray();
        var e = Assert.Throws<ArgumentException>(() => events.CopyToDense(untouched))!;
        Assert.That(e.Message, Does.Contain("Pattern 1").And.Contain("afferent 0"));
        Assert.That(untouched, Is.All.EqualTo(7f));
    }

    [Test]
    public void Refilling_AllocatesNothing()
    {
        var events = new SpikeEvents(100);
        var rng = new Random(1);
        var afferents = Enumerable.Range(0, 100).ToArray();
        var times = Enumerable.Range(0, 100).Select(_ => rng.NextDouble() * 500).ToArray();
        for (var n = 0; n < 3; n++)
        {
            events.Clear();
            for (var p = 0; p < 20; p++)
            {
                events.AddPattern(afferents, times);
            }
        }

        TestData.AssertSteadyStateAllocatesNothing(() =>
        {
            events.Clear();
            for (var p = 0; p < 20; p++)
            {
                events.AddPattern(afferents, times);
            }
        });
    }
}
