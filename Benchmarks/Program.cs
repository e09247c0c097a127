using BenchmarkDotNet.Running;

// Runs the suite: dotnet run -c Release --project Benchmarks -- --filter '*'
// A quick check that every benchmark runs once: add --job dry
BenchmarkSwitcher.FromAssembly(typeof(TimingBased.Benchmarks.EncodeBenchmarks).Assembly).Run(args);
