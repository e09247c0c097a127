#!/usr/bin/env bash
# Runs docs/examples/libtorch-peer.cs: the library against SpikingJelly's Tempotron algorithm on libtorch (TorchSharp
# 0.107, libtorch 2.10), one thread each, in one process. Arguments go to the program: [rounds] [workload prefix].
#   bash docs/examples/libtorch-peer.sh                 # 5 rounds of W2, W3 and W5
#   bash docs/examples/libtorch-peer.sh 3 W3            # 3 rounds of W3 only
#   LIBTORCH_PEER_MALLOC=glibc bash docs/examples/libtorch-peer.sh   # libtorch on glibc's malloc (see below)
#
# TorchSharp's native library needs glibc >= 2.38 (GLIBCXX_3.4.32); Debian 12, this machine's system, has 2.36. On
# such a system the script fetches Debian 13's libc6, libstdc++6, libgcc-s1 and patchelf from deb.debian.org into a
# cache folder, copies the dotnet host and shared runtimes there and points that copy's ELF interpreter at Debian 13's
# loader. Nothing is installed system-wide; the SDK builds the program as usual.
#
# Allocator: by default libtorch runs on jemalloc that keeps freed pages (Debian 13's libjemalloc2 preloaded,
# dirty_decay_ms:-1). SpikingJelly's algorithm allocates [64, 12544, 100] float temporaries (321 MB each) on every
# call; glibc returns such blocks to the kernel on free, and on this VM the page faults of the next call then take
# most of libtorch's time (W2 1.6-3.6 s a call against 1.13 s on jemalloc). The default is libtorch at its best.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${LIBTORCH_PEER_CACHE:-$HOME/.cache/timingbased-libtorch-peer}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$cache"

echo "building docs/examples/libtorch-peer.cs" >&2
dotnet build -c Release "$here/libtorch-peer.cs" -o "$cache/bin" > "$cache/build.log" 2>&1 || { cat "$cache/build.log" >&2; exit 1; }

glibc=$(ldd --version | awk 'NR == 1 { print $NF }') # awk reads to the end: no SIGPIPE under pipefail
if [ "$(printf '%s\n2.38\n' "$glibc" | sort -V | head -1)" = "2.38" ]; then
  run=(dotnet)
  libs=""
else
  root="$cache/debian13"
  libs="$root/usr/lib/x86_64-linux-gnu"
  if [ ! -e "$libs/libjemalloc.so.2" ]; then
    echo "glibc $glibc < 2.38: fetching Debian 13's libc6, libstdc++6, libgcc-s1, libjemalloc2 and patchelf into $root" >&2
    mkdir -p "$root"
    curl -fsS -o "$cache/Packages.xz" "$mirror/dists/trixie/main/binary-amd64/Packages.xz"
    for package in libc6 libstdc++6 libgcc-s1 libjemalloc2 patchelf; do
      file=$(xz -dc "$cache/Packages.xz" | awk -v P="$package" '$0 == "Package: " P { found = 1 } found && !done && /^Filename:/ { print $2; done = 1 }')
      curl -fsS -o "$cache/$package.deb" "$mirror/$file"
      dpkg-deb -x "$cache/$package.deb" "$root"
    done
  fi

  host="$cache/dotnet"
  if [ ! -x "$host/dotnet" ]; then
    dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
    mkdir -p "$host"
    cp -r "$dotnet_root/host" "$dotnet_root/shared" "$host/"
    cp "$dotnet_root/dotnet" "$host/dotnet"
    LD_LIBRARY_PATH="$libs" "$libs/ld-linux-x86-64.so.2" "$root/usr/bin/patchelf" --set-interpreter "$libs/ld-linux-x86-64.so.2" "$host/dotnet"
  fi

  run=("$host/dotnet")
fi

if [ "${LIBTORCH_PEER_MALLOC:-jemalloc}" = "jemalloc" ]; then
  jemalloc=${libs:+$libs/libjemalloc.so.2}
  jemalloc=${jemalloc:-$(ldconfig -p | awk '/libjemalloc\.so\.2 / && !done { print $NF; done = 1 }')}
  [ -n "$jemalloc" ] || { echo "libjemalloc.so.2 not found (install libjemalloc2, or LIBTORCH_PEER_MALLOC=glibc)" >&2; exit 1; }
  export LD_PRELOAD="$jemalloc" MALLOC_CONF="dirty_decay_ms:-1,muzzy_decay_ms:-1"
fi

export LIBTORCH_PEER_MALLOC=${LIBTORCH_PEER_MALLOC:-jemalloc}
LD_LIBRARY_PATH="$libs" "${run[@]}" "$cache/bin/libtorch-peer.dll" "$@"
