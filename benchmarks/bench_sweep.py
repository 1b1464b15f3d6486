"""Input-size sweep speed: the size program vs one trace per size, side by side in one run.

    .venv/bin/python benchmarks/bench_sweep.py            # ranges 64, 1024, 16384
    .venv/bin/python benchmarks/bench_sweep.py --quick    # ranges 64, 256

The model is a 4-level U-Net of about 50 layers (convs, batch norms, activations, pools,
transposed convs and skip concatenations). "One trace per size" is what a sweep costs without
the size program: one full lint (meta-device trace, pairing, checks) at every size. For the
largest range it is estimated from the measured mean cost of a trace (and said so).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from pytest_convshape import check


def block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
        nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
    )


class FiftyLayerUNet(nn.Module):
    def __init__(self, base: int = 4, depth: int = 4):
        super().__init__()
        chans = [base * 2**i for i in range(depth + 1)]
        self.inc = block(1, chans[0])
        self.downs = nn.ModuleList(nn.Sequential(nn.MaxPool2d(2), block(chans[i], chans[i + 1])) for i in range(depth))
        self.ups = nn.ModuleList(nn.ConvTranspose2d(chans[i + 1], chans[i], 2, stride=2) for i in reversed(range(depth)))
        self.decs = nn.ModuleList(block(2 * chans[i], chans[i]) for i in reversed(range(depth)))
        self.out = nn.Conv2d(chans[0], 1, 1)

    def forward(self, x):
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        y = skips.pop()
        for up, dec in zip(self.ups, self.decs):
            y = dec(torch.cat([up(y), skips.pop()], 1))
        return self.out(y)


def layer_count(model: nn.Module) -> int:
    return sum(1 for m in model.modules() if not list(m.children()))


def timed(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


SWEEP_TARGET = 200.0  # --sizes 2=8:1024 on the bundled U-Net vs one lint per size


def bundled_unet(sample: int) -> None:
    """The issue's target: ``--sizes 2=8:1024`` on examples/unet.py (1x3xHx256) against one lint
    per size. Every size is linted when ``sample`` is 0; else every sample-th size is, and the
    rest is estimated from their mean (said so)."""
    import importlib.util

    path = os.path.join(os.path.dirname(__file__), "..", "examples", "unet.py")
    spec = importlib.util.spec_from_file_location("_bench_unet", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.UNet()
    base = (1, 3, 256, 256)
    check(model, input_size=base)
    lo, hi = 8, 1024
    sweep_time = timed(lambda: check(model, input_size=base, sizes={2: (lo, hi)}), repeat=3)
    report = check(model, input_size=base, sizes={2: (lo, hi)})
    sizes = list(range(lo, hi + 1))
    picked = sizes if not sample else sizes[::sample]
    t = time.perf_counter()
    valid = []
    for h in picked:
        r = check(model, input_size=(1, 3, h, 256))
        if not any(f.code.startswith(("CS1", "CS2", "CS3", "CS903")) for f in r.findings):
            valid.append(h)
    spent = time.perf_counter() - t
    brute = spent * len(sizes) / len(picked)
    agree = all((h in report.sizes[0].valid) == (h in valid) for h in picked)
    kind = "measured" if not sample else f"estimated from every {sample}th size"
    print()
    print(f"bundled U-Net (examples/unet.py, 1x3xHx256), --sizes 2={lo}:{hi} ({len(sizes)} sizes):")
    print("| sweep | one lint per size | speed-up | same verdicts | method | rule |")
    print("|---:|---:|---:|:---:|:---|:---|")
    print(f"| {sweep_time * 1000:.1f} ms | {brute:.2f} s ({kind}) | {brute / sweep_time:.0f}x | {'yes' if agree else 'NO'} | "
          f"{report.sizes[0].method} | `{report.sizes[0].rule}` |")
    print(f"target >= {SWEEP_TARGET:.0f}x: {'met' if brute / sweep_time >= SWEEP_TARGET else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small ranges only")
    parser.add_argument("--sample", type=int, default=8, help="lint every N-th size of the bundled U-Net's 8..1024 (0: all)")
    parser.add_argument("--unet-only", action="store_true", help="only the bundled U-Net's 8..1024 sweep")
    args = parser.parse_args()
    if args.unet_only:
        bundled_unet(args.sample)
        return
    ranges = [64, 256] if args.quick else [64, 1024, 16384]
    model = FiftyLayerUNet()
    print(f"machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, torch {torch.__version__}")
    print(f"model: {type(model).__name__}, {layer_count(model)} layers, input 1x1xHx64, sweeping H")
    check(model, input_size=(1, 1, 64, 64))  # warm-up: imports and first meta kernels

    one = timed(lambda: check(model, input_size=(1, 1, 64, 64)), repeat=5)
    rows = []
    for n in ranges:
        sweep_time = timed(lambda n=n: check(model, input_size=(1, 1, 64, 64), sizes={2: (1, n)}), repeat=3)
        report = check(model, input_size=(1, 1, 64, 64), sizes={2: (1, n)})
        method = report.sizes[0].method
        if n <= 1024:
            t = time.perf_counter()
            brute_valid = []
            for h in range(1, n + 1):
                try:
                    r = check(model, input_size=(1, 1, h, 64))
                except ValueError:
                    continue
                if r.ok and not any(f.code.startswith(("CS1", "CS2", "CS3", "CS903")) for f in r.findings):
                    brute_valid.append(h)
            brute = time.perf_counter() - t
            agree = "yes" if brute_valid == list(report.sizes[0].valid) else "NO"
            kind = "measured"
        else:
            brute = one * n
            agree = "-"
            kind = "estimated (sizes x one trace)"
        rows.append((n, sweep_time, brute, kind, agree, method, report.sizes[0].rule))
    print()
    print(f"one lint at one size: {one * 1000:.1f} ms")
    print()
    print("| sizes swept | sweep | one trace per size | speed-up | same result | method | rule |")
    print("|---:|---:|---:|---:|:---:|:---|:---|")
    for n, s, b, kind, agree, method, rule in rows:
        print(f"| {n} | {s * 1000:.1f} ms | {b:.2f} s ({kind}) | {b / s:.0f}x | {agree} | {method} | `{rule}` |")
    if len(rows) >= 2:
        growth = rows[-1][1] / rows[0][1]
        print()
        print(f"sweep cost grows {growth:.1f}x while the range grows {rows[-1][0] // rows[0][0]}x")
    bundled_unet(args.sample)


if __name__ == "__main__":
    main()
