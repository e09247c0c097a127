using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using TimingBased.IO;
using TimingBased.Neurons;
using TimingBased.Streaming;

namespace TimingBased.Service.Tests;

/// <summary>The service's endpoints, called over HTTP on a real process; every answer checked against Core.</summary>
[NonParallelizable]
public class ServiceApiTests
{
    private const string Token = "test-token-1234";
    private string _store = "";
    private ServiceProcess _service = null!;
    private HttpClient _client = null!;
    private Tempotron _initial = null!;
    private float[][] _digits = [];

    [OneTimeSetUp]
    public void Start()
    {
        _store = Path.Combine(Path.GetTempPath(), $"tb-service-{Guid.NewGuid():N}");
        _service = ServiceProcess.Start($"--Model:StorePath={_store}/current.safetensors", $"--Model:UploadToken={Token}");
        _client = new HttpClient { BaseAddress = _service.Address };
        _initial = TempotronSafetensors.Load(Paths.InitialModel);
        _digits = Reference.Digits(12);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _client.Dispose();
        _service.Dispose();
        Directory.Delete(_store, recursive: true);
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> Send(HttpMethod method, string path, HttpContent? content = null, string? token = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await _client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private Task<(HttpStatusCode Status, JsonElement Body)> Classify(float[] pixels, string query = "") =>
        Send(HttpMethod.Post, "classify" + query, new StringContent(Reference.Body(pixels), System.Text.Encoding.UTF8, "application/json"));

    private Task<(HttpStatusCode Status, JsonElement Body)> Events(string lines) =>
        Send(HttpMethod.Post, "classify/events", new StringContent(lines, System.Text.Encoding.UTF8, "text/plain"));

    /// <summary>The image's events in time order (afferent order within a step), one "afferent time" line each.</summary>
    private static List<(int Afferent, float Time)> Events(Tempotron model, float[] pixels)
    {
        var spikes = Reference.Spikes(model, pixels);
        return [.. spikes.Select((t, i) => (Afferent: i, Time: t)).Where(e => e.Time >= 0).OrderBy(e => e.Time).ThenBy(e => e.Afferent)];
    }

    [Test, Order(1)]
    public async Task Classify_AnswersThePeaksAndClassOfCore_BitForBit()
    {
        foreach (var pixels in _digits)
        {
            var (status, body) = await Classify(pixels);
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
            var peaks = Reference.Peaks(_initial, pixels);
            Assert.That(Reference.Floats(body.GetProperty("peaks")), Is.EqualTo(peaks));
            Assert.That(body.GetProperty("class").GetInt32(), Is.EqualTo(Prediction.Class(peaks)));
            Assert.That(body.GetProperty("modelVersion").GetInt64(), Is.EqualTo(1));
            var fired = peaks[Prediction.Class(peaks)] >= 1f;
            Assert.That(body.GetProperty("fired").GetBoolean(), Is.EqualTo(fired));
            Assert.That(body.GetProperty("decisionTime").ValueKind, Is.EqualTo(fired ? JsonValueKind.Number : JsonValueKind.Null));
        }
    }

    [Test, Order(1)]
    public async Task ClassifyDetail_GivesTheTracesSpikesAndFirstCrossings()
    {
        var pixels = _digits[0];
        var (_, body) = await Classify(pixels, "?detail=true");
        var detail = body.GetProperty("detail");
        var voltages = new float[10 * 100];
        var spikes = Reference.Spikes(_initial, pixels);
        _initial.Voltage(spikes, 1, voltages);
        var traces = detail.GetProperty("traces").EnumerateArray().Select(Reference.Floats).ToArray();
        Assert.That(traces, Has.Length.EqualTo(10));
        for (var o = 0; o < 10; o++)
        {
            Assert.That(traces[o], Is.EqualTo(voltages.AsSpan(o * 100, 100).ToArray()));
            var crossing = Array.FindIndex(traces[o], v => v >= 1f);
            Assert.That(detail.GetProperty("crossings")[o].GetInt32(), Is.EqualTo(crossing));
        }

        Assert.That(detail.GetProperty("spikeAfferents").GetArrayLength(), Is.EqualTo(spikes.Count(t => t >= 0)));
        var decision = body.GetProperty("decisionTime");
        if (decision.ValueKind == JsonValueKind.Number)
        {
            Assert.That(decision.GetInt32(), Is.EqualTo(detail.GetProperty("crossings")[body.GetProperty("class").GetInt32()].GetInt32()));
        }
    }

    [TestCase(783, "784 values")]
    [TestCase(785, "784 values")]
    public async Task Classify_RefusesTheWrongNumberOfPixels(int length, string expect)
    {
        var (status, body) = await Classify(new float[length]);
        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(body.GetProperty("error").GetString(), Does.Contain(expect));
    }

    [Test]
    public async Task Classify_RefusesPixelsOutsideZeroToOne_MalformedJson_AndOversizedBodies()
    {
        var pixels = new float[784];
        pixels[300] = 1.5f;
        var (status, body) = await Classify(pixels);
        Assert.That((status, body.GetProperty("error").GetString()), Is.EqualTo((HttpStatusCode.BadRequest, "\"pixels\"[300] is 1.5; every pixel must be in [0, 1].")));

        var (bad, _) = await Send(HttpMethod.Post, "classify", new StringContent("{\"pixels\": [0, 1,", System.Text.Encoding.UTF8, "application/json"));
        Assert.That(bad, Is.EqualTo(HttpStatusCode.BadRequest));

        var huge = "{\"pixels\":[" + string.Join(',', Enumerable.Repeat("0.5", 400_000)) + "]}";
        var (tooLarge, _) = await Send(HttpMethod.Post, "classify", new StringContent(huge, System.Text.Encoding.UTF8, "application/json"));
        Assert.That(tooLarge, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
    }

    [Test, Order(1)]
    public async Task Events_AnswerAtTheFirstOutputSpike_AsCoresStream()
    {
        var answeredEarly = 0;
        foreach (var pixels in _digits)
        {
            var events = Events(_initial, pixels);
            var stream = new StreamingTempotron(_initial);
            var used = 0;
            foreach (var (afferent, time) in events)
            {
                stream.Push(afferent, time);
                used++;
                if (stream.FirstToFire >= 0)
                {
                    break;
                }
            }

            if (stream.FirstToFire < 0)
            {
                stream.AdvanceTo(_initial.T);
            }

            var (status, body) = await Events(string.Concat(events.Select(e => $"{e.Afferent} {e.Time}\n")));
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
            var fired = stream.FirstToFire >= 0;
            Assert.That(body.GetProperty("fired").GetBoolean(), Is.EqualTo(fired));
            Assert.That(body.GetProperty("eventsRead").GetInt64(), Is.EqualTo(used));
            Assert.That(body.GetProperty("class").GetInt32(), Is.EqualTo(fired ? stream.FirstToFire : Prediction.Class(stream.MaxVoltages)));
            Assert.That(Reference.Floats(body.GetProperty("peaks")), Is.EqualTo(stream.MaxVoltages.ToArray()));
            answeredEarly += used < events.Count ? 1 : 0;
        }

        Assert.That(answeredEarly, Is.GreaterThan(0), "some digits make an output fire before their last event");
    }

    [TestCase("5 1\n7 2\n9 3", "cut off", TestName = "Events_Refused_CutOff")]
    [TestCase("5 3\n7 2\n", "time order", TestName = "Events_Refused_OutOfOrder")]
    [TestCase("5 1\nseven 2\n", "Line 2 is not", TestName = "Events_Refused_Malformed")]
    [TestCase("5 1 2\n", "Line 1 is not", TestName = "Events_Refused_TrailingField")]
    [TestCase("12544 1\n", "not in [0, 12544)", TestName = "Events_Refused_AfferentOutOfRange")]
    [TestCase("-1 1\n", "not in [0, 12544)", TestName = "Events_Refused_NegativeAfferent")]
    [TestCase("5 100\n", "window [0, 100)", TestName = "Events_Refused_TimeAtT")]
    [TestCase("5 NaN\n", "window", TestName = "Events_Refused_NaNTime")]
    public async Task Events_Refused_SayingWhy(string lines, string expect)
    {
        var (status, body) = await Events(lines);
        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(body.GetProperty("error").GetString(), Does.Contain(expect));
    }

    [Test]
    public async Task Events_RefuseALongLine_AndAcceptCommasTabsAndCrLf()
    {
        var (status, body) = await Events(new string('1', 100) + "\n");
        Assert.That((status, body.GetProperty("error").GetString()), Is.EqualTo((HttpStatusCode.BadRequest, "Line 1 is longer than 64 bytes.")));
        var (ok, answer) = await Events("5,1\r\n7\t2\n\n9 3.5\n");
        Assert.That(ok, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(answer.GetProperty("eventsRead").GetInt64(), Is.EqualTo(3));
    }

    [Test, Order(2)]
    public async Task Upload_IsGuarded_ValidatedFirst_AndSwapsTheModel()
    {
        var other = Reference.RandomModelFile(seed: 42);
        var (unauthorised, _) = await Send(HttpMethod.Put, "model", new ByteArrayContent(other));
        var (wrong, _) = await Send(HttpMethod.Put, "model", new ByteArrayContent(other), token: "nope");
        Assert.That((unauthorised, wrong), Is.EqualTo((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized)));

        var truncated = other[..(other.Length / 2)];
        var (refused, reason) = await Send(HttpMethod.Put, "model", new ByteArrayContent(truncated), Token);
        Assert.That(refused, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(reason.GetProperty("error").GetString(), Does.Contain("Safetensors file"));
        var smaller = TempotronSafetensors.ToBytes(new Tempotron(784, 10, 100, seed: 1));
        var (misfit, why) = await Send(HttpMethod.Put, "model", new ByteArrayContent(smaller), Token);
        Assert.That((misfit, why.GetProperty("error").GetString()), Is.EqualTo((HttpStatusCode.BadRequest,
            "The model has 784 inputs; this service encodes each image into 12544 (784 pixels x 16 receptive fields).")));
        var (_, still) = await Classify(_digits[0]);
        Assert.That(still.GetProperty("modelVersion").GetInt64(), Is.EqualTo(1), "refused files leave the model serving");

        var (accepted, model) = await Send(HttpMethod.Put, "model", new ByteArrayContent(other), Token);
        Assert.That(accepted, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(model.GetProperty("version").GetInt64(), Is.EqualTo(2));
        var swapped = TempotronSafetensors.Load(other);
        var (_, after) = await Classify(_digits[0]);
        Assert.That(Reference.Floats(after.GetProperty("peaks")), Is.EqualTo(Reference.Peaks(swapped, _digits[0])));
        Assert.That(after.GetProperty("modelVersion").GetInt64(), Is.EqualTo(2));
        Assert.That(File.ReadAllBytes(Path.Combine(_store, "current.safetensors")), Is.EqualTo(other), "the accepted file is kept");
        Assert.That(_service.Log, Does.Contain("Refused a model upload").And.Contain("Published model version 2"));
    }

    [Test, Order(3)]
    public async Task HealthAndMetrics_SayTheVersionAndCounts()
    {
        var (status, health) = await Send(HttpMethod.Get, "health");
        Assert.That((status, health.GetProperty("status").GetString()), Is.EqualTo((HttpStatusCode.OK, "ok")));
        var (_, before) = await Send(HttpMethod.Get, "metrics");
        await Classify(new float[3]);
        await Classify(_digits[1]);
        var (_, metrics) = await Send(HttpMethod.Get, "metrics");
        long Count(JsonElement m, string name) => m.GetProperty(name).GetInt64();
        Assert.That(Count(metrics, "requests") - Count(before, "requests"), Is.EqualTo(2));
        Assert.That(Count(metrics, "clientErrors") - Count(before, "clientErrors"), Is.EqualTo(1));
        Assert.That(Count(metrics, "serverErrors"), Is.Zero);
        Assert.That(metrics.GetProperty("p99Milliseconds").GetDouble(), Is.GreaterThanOrEqualTo(metrics.GetProperty("p50Milliseconds").GetDouble()).And.GreaterThan(0));
        Assert.That(Count(metrics, "modelVersion"), Is.EqualTo(health.GetProperty("modelVersion").GetInt64()));
    }

    [Test]
    public void WithoutAToken_UploadIsRefused()
    {
        var store = Path.Combine(Path.GetTempPath(), $"tb-service-{Guid.NewGuid():N}");
        using var service = ServiceProcess.Start($"--Model:StorePath={store}/current.safetensors");
        using var client = new HttpClient { BaseAddress = service.Address };
        using var request = new HttpRequestMessage(HttpMethod.Put, "model") { Content = new ByteArrayContent(Reference.RandomModelFile(1)) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "");
        using var response = client.Send(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(response.Content.ReadAsStringAsync().Result, Does.Contain("no Model:UploadToken"));
        Assert.That(service.Stop(), Is.Zero, "SIGTERM stops the service gracefully");
        Assert.That(service.Log, Does.Contain("Application is shutting down"));
    }
}
