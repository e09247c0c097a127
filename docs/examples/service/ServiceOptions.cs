namespace TimingBased.Service;

/// <summary>The model settings (section <c>Model</c> of the configuration).</summary>
public sealed class ModelOptions
{
    /// <summary>Gets or sets the model file served when no accepted upload is stored (relative to the content root).</summary>
    public string InitialPath { get; set; } = "models/mnist.safetensors";

    /// <summary>Gets or sets where the last accepted upload is kept, so that a restart serves it (relative to the content root).</summary>
    public string StorePath { get; set; } = "data/current.safetensors";

    /// <summary>Gets or sets the bearer token that <c>PUT /model</c> requires; empty refuses every upload.</summary>
    public string UploadToken { get; set; } = "";

    /// <summary>Gets or sets the Gaussian receptive fields per pixel, <c>m</c>; a model must have <c>784 m</c> inputs.</summary>
    public int ReceptiveFields { get; set; } = 16;
}

/// <summary>The request limits (section <c>Limits</c> of the configuration).</summary>
public sealed class LimitOptions
{
    /// <summary>Gets or sets the largest body of a classify request, in bytes.</summary>
    public long MaxBodyBytes { get; set; } = 1 << 20;

    /// <summary>Gets or sets the largest model file accepted, in bytes.</summary>
    public long MaxModelBytes { get; set; } = 64 << 20;

    /// <summary>Gets or sets the largest event-stream body, in bytes.</summary>
    public long MaxEventBytes { get; set; } = 4 << 20;

    /// <summary>Gets or sets how long a request may take, in seconds.</summary>
    public int RequestTimeoutSeconds { get; set; } = 10;
}
