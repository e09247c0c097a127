using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace TimingBased.Service.Tests;

/// <summary>
/// The service's page in a real headless browser (Debian's chromium, driven by Playwright): draw a stroke, see the
/// raster, the ten traces and the decision, and the decision is the service's answer for the drawn pixels.
/// </summary>
[NonParallelizable]
public class PageTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Test]
    public async Task DrawingADigit_ShowsTheRasterTracesAndTheServicesDecision()
    {
        if (!File.Exists(Chromium))
        {
            Assert.Ignore($"{Chromium} is not installed (.ci/run installs Debian's chromium)");
        }

        var store = Path.Combine(Path.GetTempPath(), $"tb-service-{Guid.NewGuid():N}");
        using var service = ServiceProcess.Start($"--Model:StorePath={store}/current.safetensors");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1260, Height = 520 } });
        await page.GotoAsync(service.Address.ToString());
        Assert.That(await page.TitleAsync(), Does.Contain("Tempotron"));

        // A "7": a bar across the top, then a stroke down to the bottom left.
        var pad = (await page.Locator("#pad").BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(pad.X + 70, pad.Y + 70);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(pad.X + 210, pad.Y + 70, new() { Steps = 15 });
        await page.Mouse.MoveAsync(pad.X + 120, pad.Y + 230, new() { Steps = 20 });
        await page.Mouse.UpAsync();
        await page.Locator("#decision[data-class]").WaitForAsync(new() { Timeout = 10_000 });

        var decision = await page.Locator("#decision").TextContentAsync();
        var shownClass = int.Parse(await page.Locator("#decision").GetAttributeAsync("data-class") ?? "-1", System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(decision, Does.StartWith($"Class {shownClass}:"));
        Assert.That(await page.Locator("#traces").GetAttributeAsync("data-traces"), Is.EqualTo("10"));
        Assert.That(int.Parse(await page.Locator("#raster").GetAttributeAsync("data-spikes") ?? "0", System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(1000));
        Assert.That(await page.Locator("#legend li").CountAsync(), Is.EqualTo(10));

        // What the page drew is the service's answer for the pixels the page sent, and the canvases are not blank.
        var sent = await page.EvaluateAsync<float[]>("() => window.tb.lastRequest.pixels");
        Assert.That(sent.Count(p => p > 0), Is.GreaterThan(30), "the stroke inked the pad");
        using var client = new HttpClient { BaseAddress = service.Address };
        var answer = await (await client.PostAsJsonAsync("classify", new { pixels = sent })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(answer.GetProperty("class").GetInt32(), Is.EqualTo(shownClass));
        var inked = await page.EvaluateAsync<int>(@"() => {
            const c = document.getElementById('traces'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let k = 3; k < d.length; k += 4) if (d[k] > 0) n++; return n; }");
        Assert.That(inked, Is.GreaterThan(2000), "the traces are drawn");

        var screenshot = Environment.GetEnvironmentVariable("TB_SCREENSHOT") ?? Path.Combine(TestContext.CurrentContext.WorkDirectory, "service-page.png");
        await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });
        TestContext.Out.WriteLine($"screenshot: {screenshot}; decision: {decision}");
        if (Directory.Exists(store))
        {
            Directory.Delete(store, recursive: true);
        }
    }
}
