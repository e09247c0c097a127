using TimingBased.Internal;

namespace TimingBased.Tests.Internal;

/// <summary>
/// <see cref="WorkerPool"/>: every chunk runs exactly once, whether the workers are spinning, blocked (after a long
/// idle), busy with another caller's phase (the fallback) or asked from inside a phase; an exception reaches the caller.
/// </summary>
public class WorkerPoolTests
{
    private sealed class Counting(int chunks, Action<int>? extra = null) : IChunkBody
    {
        public int[] Runs { get; } = new int[chunks];

        public void Run(int chunk)
        {
            Interlocked.Increment(ref Runs[chunk]);
            extra?.Invoke(chunk);
        }
    }

    [Test]
    public void EveryChunkRunsOnce([Values(1, 2, 3, 8)] int degree, [Values(1, 2, 7, 64)] int chunks)
    {
        for (var round = 0; round < 50; round++)
        {
            var body = new Counting(chunks);
            WorkerPool.For(chunks, degree, body);
            Assert.That(body.Runs, Is.All.EqualTo(1), $"round {round}");
        }
    }

    [Test]
    public void AfterTheWorkersBlock_APhaseStillRunsEveryChunk()
    {
        WorkerPool.For(4, 2, new Counting(4));
        Thread.Sleep(20); // far beyond the spin time: the workers block on their semaphores
        var body = new Counting(16);
        WorkerPool.For(16, 2, body);
        Assert.That(body.Runs, Is.All.EqualTo(1));
    }

    [Test]
    public void ConcurrentCallersAndNestedCalls_RunEveryChunkOnce()
    {
        // Four threads at once: one gets the workers, the others fall back; a body that starts a phase of its own
        // finds the pool busy and falls back too.
        var failures = 0;
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            for (var round = 0; round < 100; round++)
            {
                var inner = new Counting(3);
                var body = new Counting(8, chunk =>
                {
                    if (chunk == 0)
                    {
                        WorkerPool.For(3, 2, inner);
                    }
                });
                WorkerPool.For(8, 2, body);
                if (body.Runs.Any(r => r != 1) || inner.Runs.Any(r => r != 1))
                {
                    Interlocked.Increment(ref failures); // asserted on the test's thread below
                }
            }
        })).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        Assert.That(failures, Is.Zero);
    }

    [Test]
    public void AnExceptionInAChunk_ReachesTheCaller_AndThePoolStillWorks()
    {
        var failing = new Counting(6, chunk =>
        {
            if (chunk == 4)
            {
                throw new InvalidOperationException("chunk 4");
            }
        });
        var error = Assert.Throws<AggregateException>(() => WorkerPool.For(6, 2, failing));
        Assert.That(error!.InnerException, Is.TypeOf<InvalidOperationException>());
        Assert.That(failing.Runs, Is.All.EqualTo(1), "the other chunks still ran");

        var body = new Counting(5);
        WorkerPool.For(5, 2, body);
        Assert.That(body.Runs, Is.All.EqualTo(1));
    }
}
