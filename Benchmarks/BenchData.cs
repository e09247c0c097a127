namespace TimingBased.Benchmarks;

/// <summary>Seeded stand-in data shaped like MNIST: 784 pixels in [0, 1], about 80 % background zeros.</summary>
internal static class BenchData
{
    public const int Pixels = 784;

    public static float[] DigitLikeImages(int count, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count * Pixels];
        for (var k = 0; k < count; k++)
        {
            // A blob of ink in the middle of a 28 x 28 image, background elsewhere.
            int cx = 10 + rng.Next(8), cy = 10 + rng.Next(8), r = 5 + rng.Next(4);
            for (var y = 0; y < 28; y++)
            {
                for (var xx = 0; xx < 28; xx++)
                {
                    var d2 = ((xx - cx) * (xx - cx)) + ((y - cy) * (y - cy));
                    x[(k * Pixels) + (y * 28) + xx] = d2 <= r * r ? MathF.Round(rng.NextSingle() * 255f) / 255f : 0f;
                }
            }
        }

        return x;
    }
}
