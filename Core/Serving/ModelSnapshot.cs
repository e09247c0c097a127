namespace TimingBased.Serving;

/// <summary>One published model: a frozen model and the version number its <see cref="ModelSlot{TModel}"/> gave it.</summary>
/// <typeparam name="TModel">The model type.</typeparam>
/// <param name="Model">The model; frozen, so it never changes.</param>
/// <param name="Version">The slot's version number: 1 for the first model, one more at each publication.</param>
/// <param name="PublishedAt">When the slot published it (UTC).</param>
public sealed record ModelSnapshot<TModel>(TModel Model, long Version, DateTimeOffset PublishedAt)
    where TModel : class, IFreezable;
