using System.Globalization;
using TimingBased.Internal;

namespace TimingBased.Neurons;

// The constructor's rules: size limits and sane time constants.
public sealed partial class Tempotron
{
    /// <summary>
    /// Throws unless the sizes are at least 1 and within the documented limits (<see cref="MaxT"/>,
    /// <see cref="MaxPlaneLength"/>, <see cref="MaxWeightStorage"/>); all products are computed in 64 bits.
    /// </summary>
    private static void ValidateShape(int inFeatures, int outFeatures, int t)
    {
        if (inFeatures < 1)
        {
            ThrowHelper.SizeTooSmall(nameof(inFeatures), inFeatures, 1);
        }

        if (outFeatures < 1)
        {
            ThrowHelper.SizeTooSmall(nameof(outFeatures), outFeatures, 1);
        }

        if (t < 1)
        {
            ThrowHelper.SizeTooSmall(nameof(t), t, 1);
        }

        if (t > MaxT)
        {
            ThrowHelper.IntOutOfRange(nameof(t), t, 1, MaxT);
        }

        var paddedOut = PaddedOutputs(outFeatures);
        if (paddedOut * t > MaxPlaneLength)
        {
            ThrowHelper.SizeRule(nameof(outFeatures), outFeatures, string.Create(CultureInfo.InvariantCulture,
                $"T * ceil(outFeatures / 16) * 16 <= {MaxPlaneLength} (one sample's time plane); T = {t} gives {paddedOut * t}"));
        }

        if (paddedOut * inFeatures > MaxWeightStorage)
        {
            ThrowHelper.SizeRule(nameof(inFeatures), inFeatures, string.Create(CultureInfo.InvariantCulture,
                $"inFeatures * ceil(outFeatures / 16) * 16 <= {MaxWeightStorage} (the weight storage); outFeatures = {outFeatures} gives {paddedOut * inFeatures}"));
        }
    }

    /// <summary><c>ceil(out / 16) * 16</c> in 64 bits: at least the internal row stride on every hardware.</summary>
    private static long PaddedOutputs(int outFeatures) => ((long)outFeatures + 15) / 16 * 16;

    /// <summary>
    /// Throws unless the time constants and threshold are finite and positive, <c>tau != tauS</c>, and the derived
    /// <see cref="V0"/> (as float32 too), <see cref="TPeak"/> and per-step decays <c>exp(-1/tau)</c>, <c>exp(-1/tauS)</c>
    /// are finite and non-zero (extreme but finite constants such as <c>1e-300</c> break these). <see cref="V0"/> is
    /// negative when <c>tau &lt; tauS</c>, as in SpikingJelly; <c>V0 K(t)</c> is then still a positive PSP.
    /// </summary>
    private static void ValidateConstants(double tau, double tauS, double vThreshold)
    {
        ValidateKernelConstants(tau, tauS, vThreshold, nameof(vThreshold));

        var tPeak = PeakTime(tau, tauS);
        var v0 = Normalization(tau, tauS, vThreshold);
        var decayA = Math.Exp(-1.0 / tau);
        var decayB = Math.Exp(-1.0 / tauS);
        if (!(double.IsFinite(tPeak) && tPeak > 0 && IsFiniteNonZero(v0) && IsFiniteNonZero((float)v0) && decayA > 0 && decayB > 0))
        {
            ThrowHelper.FloatOutOfRange(nameof(tau), tau, string.Create(CultureInfo.InvariantCulture,
                $"time constants whose tPeak, V0 (also as float32) and per-step decays exp(-1/tau), exp(-1/tauS) are finite and non-zero; tauS = {tauS:R} gives tPeak = {tPeak:R}, V0 = {v0:R}, decays {decayA:R}, {decayB:R}"));
        }
    }

    private static bool IsFiniteNonZero(double x) => double.IsFinite(x) && x != 0;

    /// <summary>
    /// The rules both neuron models share: <c>tau</c>, <c>tauS</c> and the threshold finite and &gt; 0, and
    /// <c>tau != tauS</c> (the kernel would vanish).
    /// </summary>
    internal static void ValidateKernelConstants(double tau, double tauS, double threshold, string thresholdName)
    {
        if (!(double.IsFinite(tau) && tau > 0))
        {
            ThrowHelper.NotFinitePositive(nameof(tau), tau);
        }

        if (!(double.IsFinite(tauS) && tauS > 0))
        {
            ThrowHelper.NotFinitePositive(nameof(tauS), tauS);
        }

        if (tau == tauS)
        {
            ThrowHelper.FloatOutOfRange(nameof(tauS), tauS, "tauS != tau (the kernel would vanish)");
        }

        if (!(double.IsFinite(threshold) && threshold > 0))
        {
            ThrowHelper.NotFinitePositive(thresholdName, threshold);
        }
    }
}
