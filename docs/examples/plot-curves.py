#!/usr/bin/env python3
"""Draws train/test accuracy curves from tempotron-mnist.cs --log CSV files as an SVG (no dependencies).

Usage: python3 plot-curves.py OUT.svg LABEL=run.csv [LABEL=run.csv ...]
"""
import csv
import sys

W, H, L, R, TOP, B = 800, 420, 60, 250, 30, 50
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]


def main():
    out, runs = sys.argv[1], []
    for arg in sys.argv[2:]:
        label, path = arg.split("=", 1)
        with open(path) as f:
            rows = list(csv.DictReader(f))
        runs.append((label, [int(r["epoch"]) for r in rows],
                     [float(r["train_accuracy"]) for r in rows], [float(r["test_accuracy"]) for r in rows]))
    max_epoch = max(max(r[1]) for r in runs)
    pw, ph = W - L - R, H - TOP - B

    def xy(epoch, acc):
        return L + pw * epoch / max_epoch, TOP + ph * (1 - acc)

    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{L}" y="18" font-size="14">Tempotron on MNIST (shipped 10,000-digit subset): accuracy per epoch</text>']
    for k in range(11):
        y = TOP + ph * k / 10
        svg.append(f'<line x1="{L}" y1="{y:.1f}" x2="{L + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        svg.append(f'<text x="{L - 8}" y="{y + 4:.1f}" text-anchor="end">{100 - 10 * k}%</text>')
    for k in range(6):
        e = max_epoch * k / 5
        x = L + pw * k / 5
        svg.append(f'<text x="{x:.1f}" y="{TOP + ph + 18}" text-anchor="middle">{e:.0f}</text>')
    svg.append(f'<text x="{L + pw / 2}" y="{H - 10}" text-anchor="middle">epoch</text>')
    svg.append(f'<rect x="{L}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
    for i, (label, epochs, train, test) in enumerate(runs):
        c = COLORS[i % len(COLORS)]
        for series, dash, name in ((train, "4 3", "train"), (test, "", "test")):
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(e, a) for e, a in zip(epochs, series)))
            svg.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="1.8" stroke-dasharray="{dash}"/>')
            ly = TOP + 14 + 18 * (2 * i + (name == "test"))
            svg.append(f'<line x1="{L + pw + 12}" y1="{ly - 4}" x2="{L + pw + 36}" y2="{ly - 4}" stroke="{c}" stroke-width="1.8" stroke-dasharray="{dash}"/>')
            svg.append(f'<text x="{L + pw + 42}" y="{ly}">{label} {name}</text>')
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
