#!/usr/bin/env bash
# Cold and warm latency of the example service, per way of running it (docs/serving.md): the JIT with tiered
# compilation (the default), the JIT with tiered compilation off, ReadyToRun, and Native AOT. For each: the time from
# starting the process to the first answered /health, the first classify request, the next 1,000 (one at a time),
# and 5,000 more after 20,000 of warm-up. Needs hey (Debian's package), python3, and clang for Native AOT.
#   bash docs/examples/service/latency.sh
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
port=5190

python3 - "$work/digit.json" <<'PY'
import gzip, json, sys
with gzip.open("../data/t10k-images-idx3-ubyte.gz") as f:
    data = f.read()
pixels = [b / 255 for b in data[16:16 + 784]]
json.dump({"pixels": pixels}, open(sys.argv[1], "w"))
PY

dotnet build -c Release -v q -nologo > /dev/null
dotnet publish -c Release -r linux-x64 -p:PublishReadyToRun=true --self-contained false -o "$work/r2r" -v q -nologo > /dev/null
dotnet publish -c Release -r linux-x64 -p:PublishAot=true -o "$work/aot" -v q -nologo > /dev/null
# Native AOT compiles for a baseline x64 by default, so the kernels' 256- and 512-bit paths are off; "native" targets
# this machine's instruction sets (the JIT always does).
dotnet publish -c Release -r linux-x64 -p:PublishAot=true -p:IlcInstructionSet=native -o "$work/aot-native" -v q -nologo > /dev/null

quantiles() { # hey's report -> "p50 X ms, p99 Y ms"
  awk '/50% in/ { p50 = $3 * 1000 } /99% in/ { p99 = $3 * 1000 } END { printf "p50 %.2f ms, p99 %.2f ms", p50, p99 }'
}

measure() { # name, command...
  local name=$1; shift
  port=$((port + 1))
  local url="http://127.0.0.1:$port"
  local start=$(date +%s%N)
  "$@" --urls "$url" --Model:StorePath="$work/store-$port/current.safetensors" > "$work/$name.log" 2>&1 &
  local pid=$!
  until curl -sf "$url/health" > /dev/null; do sleep 0.005; done
  local ready=$((($(date +%s%N) - start) / 1000000))
  local first=$(curl -s -o /dev/null -w '%{time_total}' -X POST -H 'Content-Type: application/json' --data-binary @"$work/digit.json" "$url/classify")
  local next=$(hey -n 1000 -c 1 -m POST -T application/json -D "$work/digit.json" "$url/classify" | quantiles)
  hey -n 20000 -c 1 -m POST -T application/json -D "$work/digit.json" "$url/classify" > /dev/null
  local warm=$(hey -n 5000 -c 1 -m POST -T application/json -D "$work/digit.json" "$url/classify" | quantiles)
  local rss=$(awk '/VmRSS/ { print $2 / 1024 }' "/proc/$pid/status")
  kill -TERM $pid; wait $pid || true
  printf '| %s | %d ms | %.1f ms | %s | %s | %.0f MB |\n' "$name" "$ready" "$(echo "$first * 1000" | bc -l)" "$next" "$warm" "$rss"
}

echo "| how it runs | start to first /health | first classify | next 1,000 | warm (after 20,000) | resident memory |"
echo "| --- | --- | --- | --- | --- | --- |"
measure "JIT, tiered (default)" dotnet bin/Release/net10.0/TimingBased.Service.dll
measure "JIT, TieredCompilation=0" env DOTNET_TieredCompilation=0 dotnet bin/Release/net10.0/TimingBased.Service.dll
measure "JIT, TieredPGO=0" env DOTNET_TieredPGO=0 dotnet bin/Release/net10.0/TimingBased.Service.dll
measure "ReadyToRun" dotnet "$work/r2r/TimingBased.Service.dll"
measure "Native AOT" "$work/aot/TimingBased.Service"
measure "Native AOT, IlcInstructionSet=native" "$work/aot-native/TimingBased.Service"
