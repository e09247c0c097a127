using System.Diagnostics;

namespace TimingBased.Internal;

/// <summary>A parallel phase's body: one call per chunk, from any thread; must not throw (an exception is rethrown on the caller).</summary>
internal interface IChunkBody
{
    /// <summary>Runs chunk <paramref name="chunk"/>.</summary>
    void Run(int chunk);
}

/// <summary>
/// Runs the chunks of a parallel phase on the calling thread and on dedicated worker threads that keep spinning for a
/// short while after each phase before they block, so that the next phase of the same call (a backward has two or
/// three) or of the next call starts on a running thread.
/// </summary>
/// <remarks>
/// Why not <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/>: its pool threads park as soon as a phase
/// ends, and waking one costs more than a small phase takes (LOG.md has the measurements); a training step has three
/// phases, so with small batches two threads would be slower than one. Workers here spin for <see cref="SpinMicroseconds"/> (the gap between the steps of a training
/// loop that encodes each batch on one thread), then block on a semaphore. One phase runs at a time: a call that finds
/// the workers busy (another thread's phase) falls back to <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/>.
/// Workers are created on first use, at most <c>ProcessorCount - 1</c>, and are background threads.
/// </remarks>
internal static class WorkerPool
{
    /// <summary>How long a worker spins for the next phase before it blocks.</summary>
    public const int SpinMicroseconds = 500;

    private static readonly long _spinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
    private static readonly object _growth = new();
    private static Worker[] _workers = [];
    private static int _busy;
    private static Job? _job;
    private static long _generation;

    /// <summary>
    /// Runs <paramref name="body"/> for chunks <c>[0, chunks)</c> on the calling thread and up to <c>degree - 1</c> workers;
    /// returns when every chunk is done. Each thread has a home range of contiguous chunks (the caller the first), claims
    /// its own one at a time in increasing order, then helps with what is left of the others'.
    /// </summary>
    /// <remarks>
    /// Home ranges keep consecutive phases on the same data on the same core: phase 2 of a backward and the optimizer
    /// step both split the weight rows into contiguous halves, so each core updates the gradient rows it has just summed
    /// instead of pulling half of them from the other core's cache. The benchmark that justifies it: the W3 training
    /// step at two threads, against chunks claimed from one shared counter (LOG.md). Helping keeps a late worker from holding up the phase.
    /// </remarks>
    public static void For(int chunks, int degree, IChunkBody body)
    {
        var helpers = Math.Min(Math.Min(degree, chunks) - 1, Environment.ProcessorCount - 1);
        if (helpers <= 0)
        {
            for (var c = 0; c < chunks; c++)
            {
                body.Run(c);
            }

            return;
        }

        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = degree }, body.Run);
            return;
        }

        try
        {
            var workers = Workers(helpers);
            var job = new Job(body, chunks, helpers);
            Volatile.Write(ref _job, job);
            Interlocked.Increment(ref _generation);
            for (var w = 0; w < helpers; w++)
            {
                workers[w].Wake();
            }

            job.Work(0);
            job.WaitForAll();
            Volatile.Write(ref _job, null);
            if (job.Error is not null)
            {
                throw new AggregateException(job.Error);
            }
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>The first <paramref name="count"/> workers, created as needed.</summary>
    private static Worker[] Workers(int count)
    {
        var workers = Volatile.Read(ref _workers);
        if (workers.Length >= count)
        {
            return workers;
        }

        lock (_growth)
        {
            workers = _workers;
            if (workers.Length < count)
            {
                var grown = new Worker[count];
                workers.CopyTo(grown, 0);
                for (var w = workers.Length; w < count; w++)
                {
                    grown[w] = new Worker(w);
                }

                Volatile.Write(ref _workers, grown);
                workers = grown;
            }
        }

        return workers;
    }

    /// <summary>One phase: its body, the next chunk to claim and the chunks not yet finished.</summary>
    private sealed class Job(IChunkBody body, int chunks, int helpers)
    {
        private readonly int _chunks = chunks;
        private readonly int _participants = helpers + 1;

        /// <summary>
        /// Per participant, how many chunks of its home range have been claimed (one job's own array: a worker still
        /// leaving the previous job must not touch the next one's counters). They share a cache line, as the single
        /// counter before them did; a claim is rare next to the chunk's work.
        /// </summary>
        private readonly int[] _claimed = new int[helpers + 1];
        private int _remaining = chunks;

        /// <summary>Gets how many workers take part (worker <c>w</c> joins when <c>w &lt; Helpers</c>).</summary>
        public int Helpers => helpers;

        /// <summary>Gets the first exception a chunk threw, if any.</summary>
        public Exception? Error { get; private set; }

        /// <summary>
        /// Runs chunks until none are left: first those of participant <paramref name="participant"/>'s home range (the
        /// caller is 0, worker <c>w</c> is <c>w + 1</c>), in increasing order, then unclaimed chunks of the others' ranges.
        /// </summary>
        public void Work(int participant)
        {
            for (var k = 0; k < _participants; k++)
            {
                var home = (participant + k) % _participants;
                var end = Start(home + 1);
                int chunk;
                while ((chunk = Interlocked.Increment(ref _claimed[home]) - 1 + Start(home)) < end)
                {
                    Run(chunk);
                }
            }
        }

        /// <summary>The first chunk of participant <paramref name="participant"/>'s home range (contiguous, evened out).</summary>
        private int Start(int participant) => (int)((long)_chunks * participant / _participants);

        private void Run(int chunk)
        {
            try
            {
                body.Run(chunk);
            }
            catch (Exception e)
            {
                lock (this)
                {
                    Error ??= e;
                }
            }

            Interlocked.Decrement(ref _remaining);
        }

        /// <summary>Waits (spinning, then yielding) until every claimed chunk has finished.</summary>
        public void WaitForAll()
        {
            var spin = default(SpinWait);
            while (Volatile.Read(ref _remaining) > 0)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
        }
    }

    /// <summary>A dedicated background thread: spins for the next phase, then blocks until woken. Lives as long as the process.</summary>
#pragma warning disable CA1001 // the semaphore lives as long as the worker's thread, that is, the process
    private sealed class Worker
#pragma warning restore CA1001
    {
        private readonly int _index;
        private readonly SemaphoreSlim _signal = new(0);
        private int _sleeping;

        public Worker(int index)
        {
            _index = index;
            new Thread(Loop) { IsBackground = true, Name = $"TimingBased worker {index + 1}" }.Start();
        }

        /// <summary>Wakes the worker if it blocked (a spinning worker sees the new phase by itself).</summary>
        public void Wake()
        {
            if (Interlocked.Exchange(ref _sleeping, 0) == 1)
            {
                _signal.Release();
            }
        }

        private void Loop()
        {
            var seen = Volatile.Read(ref _generation);
            while (true)
            {
                seen = WaitForPhase(seen);
                var job = Volatile.Read(ref _job);
                if (job is not null && _index < job.Helpers)
                {
                    job.Work(_index + 1);
                }
            }
        }

        /// <summary>Spins, then blocks, until the phase counter moves past <paramref name="seen"/>; returns its new value.</summary>
        private long WaitForPhase(long seen)
        {
            var until = Stopwatch.GetTimestamp() + _spinTicks;
            var spin = default(SpinWait);
            while (true)
            {
                var now = Volatile.Read(ref _generation);
                if (now != seen)
                {
                    return now;
                }

                if (Stopwatch.GetTimestamp() < until)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                    continue;
                }

                // Block: announce it, check once more (a phase published before the announcement would not wake us), then
                // wait; if the caller took the announcement back it has released (or will release) the semaphore once.
                Interlocked.Exchange(ref _sleeping, 1); // a full fence: the check below cannot move before it
                if (Volatile.Read(ref _generation) != seen && Interlocked.Exchange(ref _sleeping, 0) == 1)
                {
                    continue;
                }

                _signal.Wait();
                until = Stopwatch.GetTimestamp() + _spinTicks;
                spin = default;
            }
        }
    }
}
