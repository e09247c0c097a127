// What moving data between the two cores costs on this machine: the numbers behind the cross-core budget of a W3
// training step at two threads (docs/performance.md, "Threads"). No library code: one 800 KB matrix of 12,544
// 64-byte rows (W3's weight matrix at out = 10). Before each timed pass one thread (the other core's, or this one's
// for the baselines) writes or reads the whole matrix; then this thread reads or writes 2,760 or 6,272 of its rows
// (the rows a W3 update rewrites per thread, and half the matrix), at random or in order, timed. Median and minimum
// of 150 passes of each case, the cases interleaved.
//   dotnet run -c Release docs/examples/stopwatch/cross-core.cs
using System.Diagnostics;
using System.Runtime.Intrinsics;

const int Rows = 12544, Floats = Rows * 16, Rounds = 150, Warm = 30;
var matrix = new float[Floats];
var random = new Random(1);
var shuffled = Enumerable.Range(0, Rows).OrderBy(_ => random.Next()).ToArray();
var ascending = shuffled[..2760].Order().ToArray(); // an update's pattern: the rows with a gradient, in order

// (who touches the matrix first, whether that is a write, what the timed pass does, rows, pattern)
var cases = new (string Name, bool OtherCore, bool Write, Action<Vector512<float>> Pass)[]
{
    ("read 6,272 rows in order (400 KB) the other core wrote", true, true, _ => Read(matrix, 0, 6272)),
    ("read 2,760 random rows the other core wrote", true, true, _ => ReadRows(matrix, shuffled.AsSpan(0, 2760))),
    ("read 6,272 random rows the other core wrote", true, true, _ => ReadRows(matrix, shuffled.AsSpan(0, 6272))),
    ("read 2,760 random rows this core wrote (baseline)", false, true, _ => ReadRows(matrix, shuffled.AsSpan(0, 2760))),
    ("write 2,760 random rows the other core has read", true, false, v => WriteRows(matrix, shuffled.AsSpan(0, 2760), v)),
    ("write 2,760 random rows this core has read (baseline)", false, false, v => WriteRows(matrix, shuffled.AsSpan(0, 2760), v)),
    ("load and store 2,760 ascending rows the other core has read", true, false, _ => UpdateRows(matrix, ascending)),
    ("load and store 2,760 ascending rows this core has read (baseline)", false, false, _ => UpdateRows(matrix, ascending)),
};

var request = 0; // 0 idle, 1 write the matrix, 2 read it, -1 stop; the other thread sets 0 when done
var other = new Thread(() =>
{
    int r;
    while ((r = Volatile.Read(ref request)) >= 0)
    {
        if (r == 0)
        {
            continue;
        }

        Touch(matrix, r == 1);
        Volatile.Write(ref request, 0);
    }
});
other.Start();

var times = cases.Select(_ => new List<double>()).ToArray();
for (var round = 0; round < Warm + Rounds; round++)
{
    for (var c = 0; c < cases.Length; c++)
    {
        var (_, otherCore, write, pass) = cases[c];
        if (otherCore)
        {
            Volatile.Write(ref request, write ? 1 : 2);
            while (Volatile.Read(ref request) != 0)
            {
            }
        }
        else
        {
            Touch(matrix, write);
        }

        var start = Stopwatch.GetTimestamp();
        pass(Vector512.Create((float)round));
        if (round >= Warm)
        {
            times[c].Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }
    }
}

Volatile.Write(ref request, -1);
other.Join();
for (var c = 0; c < cases.Length; c++)
{
    var t = times[c];
    t.Sort();
    Console.WriteLine($"{cases[c].Name}: median {t[t.Count / 2]:F1} us, min {t[0]:F1} us");
}

static void Touch(float[] m, bool write)
{
    var sum = Vector512<float>.Zero;
    for (var i = 0; i < m.Length; i += 16)
    {
        if (write)
        {
            Vector512.Create(1f).StoreUnsafe(ref m[0], (nuint)i);
        }
        else
        {
            sum += Vector512.LoadUnsafe(ref m[0], (nuint)i);
        }
    }

    Sink(sum);
}

static void Read(float[] m, int firstRow, int rows)
{
    var sum = Vector512<float>.Zero;
    for (var r = firstRow; r < firstRow + rows; r++)
    {
        sum += Vector512.LoadUnsafe(ref m[0], (nuint)(r * 16));
    }

    Sink(sum);
}

static void ReadRows(float[] m, ReadOnlySpan<int> rows)
{
    var sum = Vector512<float>.Zero;
    foreach (var r in rows)
    {
        sum += Vector512.LoadUnsafe(ref m[0], (nuint)(r * 16));
    }

    Sink(sum);
}

static void WriteRows(float[] m, ReadOnlySpan<int> rows, Vector512<float> value)
{
    foreach (var r in rows)
    {
        value.StoreUnsafe(ref m[0], (nuint)(r * 16));
    }
}

static void UpdateRows(float[] m, ReadOnlySpan<int> rows)
{
    var step = Vector512.Create(1e-3f);
    foreach (var r in rows)
    {
        (Vector512.LoadUnsafe(ref m[0], (nuint)(r * 16)) - step).StoreUnsafe(ref m[0], (nuint)(r * 16));
    }
}

static void Sink(Vector512<float> v)
{
    if (v[0] == 12345.678f)
    {
        Console.WriteLine();
    }
}
