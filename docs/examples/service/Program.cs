using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using TimingBased.Service;

// The example service of docs/serving.md. Configuration: appsettings.json, then TB_-prefixed environment variables
// (TB_Model__UploadToken=...), then the command line (--Model:UploadToken=...).
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddEnvironmentVariables("TB_");
builder.Configuration.AddCommandLine(args);
builder.Services.Configure<ModelOptions>(builder.Configuration.GetSection("Model"));
var limits = builder.Configuration.GetSection("Limits").Get<LimitOptions>() ?? new LimitOptions();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ServiceJson.Default));
builder.Services.AddSingleton<ModelHost>();
builder.Services.AddSingleton<ServiceMetrics>();
builder.Services.AddRequestTimeouts(o => o.DefaultPolicy = new RequestTimeoutPolicy
{
    Timeout = TimeSpan.FromSeconds(limits.RequestTimeoutSeconds),
    TimeoutStatusCode = StatusCodes.Status503ServiceUnavailable,
});
builder.WebHost.ConfigureKestrel(k =>
{
    k.Limits.MaxRequestBodySize = limits.MaxBodyBytes;
    k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(limits.RequestTimeoutSeconds);
    k.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
});
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));

var app = builder.Build();
var host = app.Services.GetRequiredService<ModelHost>(); // loads the model now: a service with no valid model does not start
var metrics = app.Services.GetRequiredService<ServiceMetrics>();
var uploadToken = Encoding.UTF8.GetBytes(app.Configuration["Model:UploadToken"] ?? "");

// No exception text reaches a client: the handler logs it and answers a plain 500.
app.UseExceptionHandler(error => error.Run(context => Results.Json(new ErrorResponse("Internal error; see the service log."),
    ServiceJson.Default.ErrorResponse, statusCode: 500).ExecuteAsync(context)));
app.Use(async (context, next) =>
{
    var start = Stopwatch.GetTimestamp();
    await next(context);
    metrics.Record(context.Response.StatusCode, context.Request.Path.StartsWithSegments("/classify"), Stopwatch.GetTimestamp() - start);
});
app.UseRequestTimeouts();
app.UseDefaultFiles();
app.UseStaticFiles();

app.MapPost("/classify", (ClassifyRequest request, bool? detail) =>
{
    var refusal = Classifier.Validate(request.Pixels);
    return refusal is not null
        ? Results.Json(new ErrorResponse(refusal), ServiceJson.Default.ErrorResponse, statusCode: 400)
        : Results.Json(Classifier.Classify(host, host.Current, request.Pixels!, detail == true), ServiceJson.Default.ClassifyResponse);
});

app.MapPost("/classify/events", async Task<IResult> (HttpContext context) =>
{
    context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = limits.MaxEventBytes;
    try
    {
        var (answer, refusal) = await EventLines.ClassifyAsync(context.Request.BodyReader, host, context.RequestAborted);
        return answer is not null
            ? Results.Json(answer, ServiceJson.Default.StreamResponse)
            : Results.Json(new ErrorResponse(refusal!), ServiceJson.Default.ErrorResponse, statusCode: 400);
    }
    catch (BadHttpRequestException e)
    {
        return Results.Json(new ErrorResponse(e.StatusCode == 413 ? $"The body is larger than {limits.MaxEventBytes} bytes." : "The body could not be read."),
            ServiceJson.Default.ErrorResponse, statusCode: e.StatusCode);
    }
});

app.MapGet("/model", () => Results.Json(Describe(host.Current), ServiceJson.Default.ModelResponse));

app.MapPut("/model", async Task<IResult> (HttpContext context) =>
{
    if (uploadToken.Length == 0)
    {
        return Results.Json(new ErrorResponse("Model upload is disabled: no Model:UploadToken is configured."), ServiceJson.Default.ErrorResponse, statusCode: 403);
    }

    var given = context.Request.Headers.Authorization.ToString();
    if (!given.StartsWith("Bearer ", StringComparison.Ordinal) ||
        !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given["Bearer ".Length..]), uploadToken))
    {
        return Results.Json(new ErrorResponse("A valid \"Authorization: Bearer <token>\" header is required."), ServiceJson.Default.ErrorResponse, statusCode: 401);
    }

    context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = limits.MaxModelBytes;
    byte[] file;
    try
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        file = buffer.ToArray();
    }
    catch (BadHttpRequestException e)
    {
        return Results.Json(new ErrorResponse(e.StatusCode == 413 ? $"The model file is larger than {limits.MaxModelBytes} bytes." : "The body could not be read."),
            ServiceJson.Default.ErrorResponse, statusCode: e.StatusCode);
    }

    var (snapshot, refusal) = await host.ReplaceAsync(file, context.RequestAborted);
    if (snapshot is null)
    {
        return Results.Json(new ErrorResponse(refusal!), ServiceJson.Default.ErrorResponse, statusCode: 400);
    }

    metrics.ModelSwapped();
    return Results.Json(Describe(snapshot), ServiceJson.Default.ModelResponse);
});

app.MapGet("/health", () => Results.Json(new HealthResponse("ok", host.Current.Version), ServiceJson.Default.HealthResponse));
app.MapGet("/metrics", () => Results.Json(metrics.Snapshot(host.Current.Version), ServiceJson.Default.MetricsResponse));

app.Run();

static ModelResponse Describe(TimingBased.Serving.ModelSnapshot<TimingBased.Neurons.Tempotron> snapshot)
{
    var m = snapshot.Model;
    return new ModelResponse(snapshot.Version, m.InFeatures, m.OutFeatures, m.T, snapshot.PublishedAt);
}
