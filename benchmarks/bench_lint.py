"""Lint cost against the cost of what it replaces: one eager CPU forward pass, and the memory of
a bare ``import torch``.

Run from the repository root (a script, not a test)::

    .venv/bin/python benchmarks/bench_lint.py            # 2D U-Net 1x3x512x512, 3D U-Net 1x1x128^3
    .venv/bin/python benchmarks/bench_lint.py --quick    # 1x3x256x256 and 1x1x64^3, a few seconds

It measures, in one run:

(a) time: ``check(model, input_size=...)`` on a model instance with real CPU weights (warm-up,
    then the median of ``--lint-runs``), the ``convshape`` CLI end to end in a subprocess
    (median of ``--cli-runs``; includes Python start-up and ``import torch``), and one eager
    forward pass of the same model under ``torch.no_grad()`` in eval mode (median of
    ``--eager-runs``, after a warm-up on a small input). Lint runs are interleaved with the eager
    passes, so that a machine whose speed drifts affects both sides of the ratio alike. The linted model is the one as written
    (``output_padding=0``, which has the bug the linter reports); the eager pass uses
    ``output_padding=1``, because with 0 the skip ``torch.cat`` raises in eager torch.
(b) memory: peak RSS (``ru_maxrss`` of ``resource.getrusage(RUSAGE_CHILDREN)`` in a fresh
    wrapper process per command) of the CLI, which builds the model on the meta device, next to
    ``python -c "import torch"``.

It ends with a markdown table for README.md. Targets: lint at least 50x faster than the eager
forward; the CLI's peak memory at most 100 MB above a bare ``import torch``.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SPEED_TARGET = 50.0  # lint at least this many times faster than one eager forward
MEMORY_TARGET_MB = 100.0  # CLI peak RSS at most this much above `import torch`

# Runs one command in a fresh process and reports its wall time and peak RSS. RUSAGE_CHILDREN of
# this wrapper covers exactly the one child it waited for (Linux: ru_maxrss in KiB).
_MEASURE = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
wall = time.perf_counter() - t
kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": rc, "wall": wall, "maxrss_mb": kib / 1024}))
"""


@dataclass
class Case:
    label: str
    file: str
    name: str
    size: tuple[int, ...]
    eager_runs: int
    params: int = 0
    lint_s: float = 0.0
    lint_fixed_s: float = 0.0
    lint_cold_s: float = 0.0
    lint_runs: int = 0
    lint_cpu_s: float = 0.0
    findings: int = 0
    eager_s: float = 0.0
    eager_all: list[float] = field(default_factory=list)
    cli_s: float = 0.0
    cli_rc: int = 0
    cli_rss_mb: float = 0.0

    @property
    def target(self) -> str:
        return f"examples/{self.file}:{self.name}"

    @property
    def shape(self) -> str:
        return ",".join(map(str, self.size))


def load(file: str, name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{Path(file).stem}", EXAMPLES / file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def convshape_exe() -> list[str]:
    exe = Path(sys.executable).with_name("convshape")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "pytest_convshape"]


def measure(cmd: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout)


def _timed(fn, cpu: list[float] | None = None) -> float:
    t, c = time.perf_counter(), time.process_time()
    fn()
    if cpu is not None:
        cpu.append(time.process_time() - c)
    return time.perf_counter() - t


def time_lint_and_eager(case: Case, lint_runs: int) -> None:
    """check() and the eager forward, interleaved: on a shared machine whose speed drifts by 2x
    within a minute, each eager pass is flanked by lint runs, so the ratio compares like with like."""
    import torch

    from pytest_convshape import check

    cls = load(case.file, case.name)
    model = cls()  # as written: output_padding=0, real CPU weights, like a user's instance
    fixed = cls(output_padding=1).eval()  # what the eager pass runs (as written, its torch.cat raises)
    case.params = sum(p.numel() for p in model.parameters())
    t = time.perf_counter()
    report = check(model, input_size=case.size)  # warm-up: the first call pays torch's lazy imports
    case.lint_cold_s = time.perf_counter() - t
    case.findings = len(report.findings)
    check(fixed, input_size=case.size)

    x = torch.randn(case.size)
    # eager warm-up input: a quarter of each side, at least 32, so the bottleneck keeps more than
    # one element per channel (InstanceNorm refuses a 1x1x1 map)
    small = torch.randn(case.size[:2] + tuple(max(32, n // 4) for n in case.size[2:]))
    with torch.no_grad():
        fixed(small)

    rounds = case.eager_runs
    per_round = max(1, -(-lint_runs // rounds))  # ceil: at least lint_runs in total
    lint, lint_fixed, lint_cpu = [], [], []
    for _ in range(rounds):
        half = (per_round + 1) // 2
        lint += [_timed(lambda: check(model, input_size=case.size), lint_cpu) for _ in range(half)]
        lint_fixed += [_timed(lambda: check(fixed, input_size=case.size)) for _ in range(half)]
        with torch.no_grad():
            case.eager_all.append(_timed(lambda: fixed(x)))
        lint += [_timed(lambda: check(model, input_size=case.size), lint_cpu) for _ in range(per_round - half)]
        lint_fixed += [_timed(lambda: check(fixed, input_size=case.size)) for _ in range(per_round - half)]
    case.lint_runs = len(lint)
    case.lint_s = statistics.median(lint)
    case.lint_cpu_s = statistics.median(lint_cpu)
    case.lint_fixed_s = statistics.median(lint_fixed)
    case.eager_s = statistics.median(case.eager_all)
    gc.collect()


WALK_TARGET_US = 100.0  # warm check() per traced leaf module on the 2-D U-Net
WALK_RATIO_VALID, WALK_RATIO_FINDING = 0.2, 0.3  # check() / hooked meta forward


def hooked_meta_forward(model, size) -> None:
    """What a torchinfo-style tool pays for the same walk: a plain forward on the meta device
    with a no-op forward hook on every leaf module (parameters swapped for meta stand-ins)."""
    import torch

    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(lambda *a: None) for m in leaves]
    try:
        state = {n: torch.empty(t.shape, dtype=t.dtype, device="meta") for n, t in list(model.named_parameters()) + list(model.named_buffers())}
        with torch.no_grad():
            torch.func.functional_call(model, state, (torch.empty(size, device="meta"),))
    finally:
        for h in handles:
            h.remove()


def time_walk(file: str, name: str, size: tuple[int, ...], runs: int) -> dict:
    """Warm check() per traced leaf module, at a valid size (output_padding=1) and at a size with
    findings (the model as written), against the hooked meta forward of the same model;
    interleaved repetitions, medians."""
    from pytest_convshape import check

    cls = load(file, name)
    valid, broken = cls(output_padding=1), cls()
    leaves = sum(1 for m in valid.modules() if not list(m.children()))
    for m in (valid, broken):  # warm-up: lazy imports, caches
        check(m, input_size=size)
    hooked_meta_forward(valid, size)  # the baseline walks the valid model (as written, its torch.cat raises)
    t_valid, t_broken, t_base = [], [], []
    for _ in range(runs):
        t_valid.append(_timed(lambda: check(valid, input_size=size)))
        t_base.append(_timed(lambda: hooked_meta_forward(valid, size)))
        t_broken.append(_timed(lambda: check(broken, input_size=size)))
        t_base.append(_timed(lambda: hooked_meta_forward(valid, size)))
    out = {"leaves": leaves, "valid": statistics.median(t_valid), "broken": statistics.median(t_broken), "base": statistics.median(t_base),
           "findings": len(check(broken, input_size=size).findings)}
    out["us_valid"] = out["valid"] / leaves * 1e6
    out["us_broken"] = out["broken"] / leaves * 1e6
    return out


def time_cli(case: Case, cli_runs: int) -> None:
    cmd = [*convshape_exe(), case.target, "--input", case.shape]
    measure(cmd)  # warm-up: page cache, .pyc files
    runs = [measure(cmd) for _ in range(cli_runs)]
    case.cli_s = statistics.median(r["wall"] for r in runs)
    case.cli_rss_mb = max(r["maxrss_mb"] for r in runs)
    case.cli_rc = runs[0]["rc"]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def mb(x: float) -> str:
    return f"{x:,.0f} MB"


def secs(x: float) -> str:
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs: 1x3x256x256 and 1x1x64x64x64")
    parser.add_argument("--lint-runs", type=int, default=7, help="timed check() runs per model (median)")
    parser.add_argument("--cli-runs", type=int, default=3, help="timed CLI runs per model (median)")
    parser.add_argument("--eager-runs", type=int, default=None, help="eager forward runs (default 3 for 2D, 1 for 3D)")
    parser.add_argument("--output", metavar="FILE", help="also write the markdown tables to FILE")
    parser.add_argument("--walk-runs", type=int, default=15, help="interleaved runs of the per-leaf comparison (median)")
    parser.add_argument("--walk-only", action="store_true", help="only the per-leaf comparison on the 2-D U-Net at 256x256")
    args = parser.parse_args(argv)

    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    import torch

    s2, s3 = (256, 64) if args.quick else (512, 128)
    cases = [
        Case("2D U-Net", "unet.py", "UNet", (1, 3, s2, s2), args.eager_runs or 3),
        Case("3D U-Net", "unet3d.py", "UNet3D", (1, 1, s3, s3, s3), args.eager_runs or 1),
    ]
    threads = torch.get_num_threads()
    machine = (
        f"{os.cpu_count()} cores ({cpu_model()}), torch {torch.__version__} with {threads} threads, "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}"
    )
    load_before = os.getloadavg()[0]
    print(f"machine: {machine}; load average {load_before:.2f}", flush=True)

    walk = time_walk("unet.py", "UNet", (1, 3, 256, 256), args.walk_runs)
    walk_lines = [
        "| 2-D U-Net 1x3x256x256 | leaves | `check()` | per leaf | hooked meta forward | ratio | target |",
        "|---|---|---|---|---|---|---|",
        f"| valid size (`output_padding=1`) | {walk['leaves']} | {walk['valid'] * 1e3:.1f} ms | {walk['us_valid']:.0f} us | "
        f"{walk['base'] * 1e3:.1f} ms | {walk['valid'] / walk['base']:.2f} | <= {WALK_RATIO_VALID} and <= {WALK_TARGET_US:.0f} us |",
        f"| with findings (as written, {walk['findings']}) | {walk['leaves']} | {walk['broken'] * 1e3:.1f} ms | {walk['us_broken']:.0f} us | "
        f"{walk['base'] * 1e3:.1f} ms | {walk['broken'] / walk['base']:.2f} | <= {WALK_RATIO_FINDING} |",
    ]
    walk_verdicts = [
        f"walk, valid size: {walk['us_valid']:.0f} us per leaf (target <= {WALK_TARGET_US:.0f}): {'met' if walk['us_valid'] <= WALK_TARGET_US else 'MISSED'}; "
        f"ratio {walk['valid'] / walk['base']:.2f} (target <= {WALK_RATIO_VALID}): {'met' if walk['valid'] / walk['base'] <= WALK_RATIO_VALID else 'MISSED'}",
        f"walk, with findings: ratio {walk['broken'] / walk['base']:.2f} (target <= {WALK_RATIO_FINDING}): "
        f"{'met' if walk['broken'] / walk['base'] <= WALK_RATIO_FINDING else 'MISSED'}",
    ]
    print("\n".join(walk_lines + [""] + walk_verdicts), flush=True)
    if args.walk_only:
        return 0

    for case in cases:
        print(f"\n{case.label} {case.target} input {'x'.join(map(str, case.size))}", flush=True)
        time_lint_and_eager(case, args.lint_runs)
        print(f"  check():  {secs(case.lint_s)} median of {case.lint_runs}, CPU time {secs(case.lint_cpu_s)} ({case.findings} findings; "
              f"first call {secs(case.lint_cold_s)}; fixed model {secs(case.lint_fixed_s)})", flush=True)
        print(f"  eager:    {secs(case.eager_s)} ({', '.join(secs(t) for t in case.eager_all)}), "
              f"output_padding=1, no_grad, eval", flush=True)
        time_cli(case, args.cli_runs)
        print(f"  CLI:      {secs(case.cli_s)} median of {args.cli_runs}, exit status {case.cli_rc}, "
              f"peak RSS {mb(case.cli_rss_mb)}", flush=True)

    base = [measure([sys.executable, "-c", "import torch"]) for _ in range(3)]
    base_rss = max(r["maxrss_mb"] for r in base)
    base_s = statistics.median(r["wall"] for r in base)
    print(f"\npython -c 'import torch': {secs(base_s)}, peak RSS {mb(base_rss)}")
    load_after = os.getloadavg()[0]
    busy = max(load_before, load_after) > 1.5

    lines = [
        f"Measured with `benchmarks/bench_lint.py{' --quick' if args.quick else ''}` on {machine}.",
        "",
        "| model | params | input | eager forward (CPU, no_grad) | `check()` | speed-up | `convshape` CLI, end to end | speed-up |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in cases:
        lines.append(
            f"| {c.label} (`{c.target}`) | {c.params / 1e6:.1f}M | {'x'.join(map(str, c.size))} | {secs(c.eager_s)} | "
            f"{secs(c.lint_s)} | {c.eager_s / c.lint_s:.0f}x | {secs(c.cli_s)} | {c.eager_s / c.cli_s:.1f}x |"
        )
    lines += [
        "",
        f"`check()`: median of {cases[0].lint_runs} calls on a model instance with real weights, after one warm-up "
        "call, on the model as written (`output_padding=0`, 4 findings); the fixed model lints in "
        + " and ".join(secs(c.lint_fixed_s) for c in cases)
        + ". The eager pass (median of " + " and ".join(str(c.eager_runs) for c in cases) + ") runs the fixed model "
        "(`output_padding=1`), because as written its `torch.cat` raises; lint and eager runs are interleaved. "
        f"The CLI time includes Python start-up and `import torch` ({secs(base_s)} on its own)."
        + (f" Load average {load_before:.1f} at the start and {load_after:.1f} at the end: other jobs shared the "
           "cores, so wall times are noisy." if busy else ""),
        "",
        "| command | peak RSS | above `import torch` |",
        "|---|---|---|",
        f"| `python -c \"import torch\"` | {mb(base_rss)} | |",
    ]
    for c in cases:
        lines.append(f"| `convshape {c.target} --input {c.shape}` | {mb(c.cli_rss_mb)} | +{c.cli_rss_mb - base_rss:,.0f} MB |")
    lines += [
        "",
        "The CLI builds the model on the meta device: parameters and activations take no memory.",
    ]
    table = "\n".join(lines)

    verdicts = []
    for c in cases:
        ratio = c.eager_s / c.lint_s
        verdicts.append(f"{c.label}: check() {ratio:.0f}x faster than eager (target >= {SPEED_TARGET:.0f}x): "
                        f"{'met' if ratio >= SPEED_TARGET else 'MISSED'}")
        extra = c.cli_rss_mb - base_rss
        verdicts.append(f"{c.label}: CLI peak RSS +{extra:.0f} MB over import torch (target <= {MEMORY_TARGET_MB:.0f} MB): "
                        f"{'met' if extra <= MEMORY_TARGET_MB else 'MISSED'}")
    print("\n" + "\n".join(walk_verdicts + verdicts))
    table = table + "\n\n" + "\n".join(walk_lines)
    print("\n" + table)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(table + "\n", encoding="utf-8")
        print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
