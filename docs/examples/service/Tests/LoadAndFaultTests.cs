using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using TimingBased.IO;
using TimingBased.Neurons;

namespace TimingBased.Service.Tests;

/// <summary>
/// A bounded load on loopback with faults: N classify requests at concurrency C while the model is swapped K times and
/// corrupt and truncated model files are posted; every answer must be, bit for bit, the answer of the model whose
/// version it names, no valid request may fail, and a restarted service must serve the last model it accepted.
/// TB_LOAD_REQUESTS, TB_LOAD_CONCURRENCY and TB_LOAD_SWAPS set N, C and K (CI runs the defaults); TB_LOAD_REPORT names
/// a file to append the results to.
/// </summary>
[NonParallelizable]
public class LoadAndFaultTests
{
    private const string Token = "load-test-token";

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : fallback;

    [Test]
    public async Task Load_WithSwapsAndBadUploads_EveryAnswerIsOneWholeModels_AndARestartServesTheLastGoodModel()
    {
        var (n, c, k) = (Setting("TB_LOAD_REQUESTS", 3000), Setting("TB_LOAD_CONCURRENCY", 8), Setting("TB_LOAD_SWAPS", 10));
        var files = new[] { File.ReadAllBytes(Paths.InitialModel), Reference.RandomModelFile(7), Reference.RandomModelFile(8) };
        var models = files.Select(f => TempotronSafetensors.Load(f)).ToArray();
        var digits = Reference.Digits(24);
        var bodies = digits.Select(Reference.Body).ToArray();
        var expected = models.Select(m => digits.Select(d => Reference.Peaks(m, d)).ToArray()).ToArray();
        var modelOfVersion = new ConcurrentDictionary<long, int> { [1] = 0 };

        var store = Path.Combine(Path.GetTempPath(), $"tb-load-{Guid.NewGuid():N}");
        using var service = ServiceProcess.Start($"--Model:StorePath={store}/current.safetensors", $"--Model:UploadToken={Token}");
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = c }) { BaseAddress = service.Address };
        var latencies = new long[n];
        var answers = new (long Version, int Digit, float[] Peaks)[n];
        var failures = new ConcurrentQueue<string>();
        var next = -1;
        var completed = 0;

        async Task Worker()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < n)
            {
                var digit = i % digits.Length;
                var start = Stopwatch.GetTimestamp();
                using var response = await client.PostAsync("classify", new StringContent(bodies[digit], System.Text.Encoding.UTF8, "application/json"));
                var text = await response.Content.ReadAsStringAsync();
                latencies[i] = Stopwatch.GetTimestamp() - start;
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Enqueue($"request {i}: {(int)response.StatusCode} {text}");
                }
                else
                {
                    var body = JsonDocument.Parse(text).RootElement;
                    answers[i] = (body.GetProperty("modelVersion").GetInt64(), digit, Reference.Floats(body.GetProperty("peaks")));
                }

                Interlocked.Increment(ref completed);
            }
        }

        async Task<HttpStatusCode> Upload(byte[] file)
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, "model") { Content = new ByteArrayContent(file) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            using var response = await client.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var version = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("version").GetInt64();
                modelOfVersion[version] = Array.FindIndex(files, f => ReferenceEquals(f, file));
            }

            return response.StatusCode;
        }

        var corrupt = (byte[])files[1].Clone();
        corrupt[8] = (byte)'x'; // the header's JSON no longer parses
        var truncated = files[2][..(files[2].Length - 1000)];
        var refusedFaults = 0;
        var last = 0;
        async Task Swapper()
        {
            for (var j = 0; j < k; j++)
            {
                while (Volatile.Read(ref completed) < (long)(j + 1) * n / (k + 1))
                {
                    await Task.Delay(1);
                }

                refusedFaults += await Upload(corrupt) == HttpStatusCode.BadRequest ? 1 : 0;
                refusedFaults += await Upload(truncated) == HttpStatusCode.BadRequest ? 1 : 0;
                last = 1 + (j % 2);
                Assert.That(await Upload(files[last]), Is.EqualTo(HttpStatusCode.OK));
            }
        }

        var clock = Stopwatch.StartNew();
        await Task.WhenAll([.. Enumerable.Range(0, c).Select(_ => Task.Run(Worker)), Task.Run(Swapper)]);
        var elapsed = clock.Elapsed;

        Assert.That(failures, Is.Empty, "no valid request fails");
        Assert.That(refusedFaults, Is.EqualTo(2 * k), "every corrupt or truncated file is refused");
        var mismatched = answers.Count(a => !modelOfVersion.TryGetValue(a.Version, out var m) || !a.Peaks.AsSpan().SequenceEqual(expected[m][a.Digit]));
        Assert.That(mismatched, Is.Zero, "every answer is the answer of the model its version names");
        var versionsSeen = answers.Select(a => a.Version).Distinct().Count();

        Array.Sort(latencies);
        double Ms(double q) => latencies[Math.Clamp((int)Math.Ceiling(q * n) - 1, 0, n - 1)] * 1000.0 / Stopwatch.Frequency;
        var report = string.Create(CultureInfo.InvariantCulture,
            $"N = {n}, C = {c}, K = {k} swaps (+{2 * k} bad files refused): {n / elapsed.TotalSeconds:F0} requests/s, p50 {Ms(0.5):F2} ms, p99 {Ms(0.99):F2} ms, p99.9 {Ms(0.999):F2} ms, errors 0, {versionsSeen} model versions answered, every answer matched its model");
        TestContext.Out.WriteLine(report);
        if (Environment.GetEnvironmentVariable("TB_LOAD_REPORT") is { Length: > 0 } reportPath)
        {
            File.AppendAllText(reportPath, report + Environment.NewLine);
        }

        // A restart serves the last model the service accepted: it kept the file.
        Assert.That(service.Stop(), Is.Zero);
        using var restarted = ServiceProcess.Start($"--Model:StorePath={store}/current.safetensors", $"--Model:UploadToken={Token}");
        using var again = new HttpClient { BaseAddress = restarted.Address };
        using var answer = await again.PostAsync("classify", new StringContent(bodies[0], System.Text.Encoding.UTF8, "application/json"));
        var peaks = Reference.Floats(JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("peaks"));
        Assert.That(peaks, Is.EqualTo(expected[last][0]));
        Assert.That(restarted.Log, Does.Contain(Path.Combine(store, "current.safetensors")));
        Directory.Delete(store, recursive: true);
    }
}
