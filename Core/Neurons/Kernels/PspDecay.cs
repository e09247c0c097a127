namespace TimingBased.Neurons.Kernels;

/// <summary>
/// The constants of one step of the grid model's recurrences: the per-step decays <c>exp(-1/tau)</c> and
/// <c>exp(-1/tauS)</c>, and the PSP normalisation <c>V0</c>.
/// </summary>
/// <param name="A">The membrane decay per step, <c>exp(-1/tau)</c>.</param>
/// <param name="B">The synaptic decay per step, <c>exp(-1/tauS)</c>.</param>
/// <param name="V0">The PSP normalisation.</param>
internal readonly record struct PspDecay(double A, double B, double V0);
