"""What pytest-convshape costs pytest's start-up in a project that does not use it.

pytest imports every installed plugin at each start. This benchmark runs pytest on a tiny
project without ``[tool.convshape]`` many times, alternating a run with the plugin and one
without it (``-p no:convshape``), and prints the medians side by side. It also times the bare
import of the plugin module (with pytest already imported) and checks that torch was not
imported. Target: under 10 ms difference.

Children run with bytecode caching on (as after ``pip install``), so the numbers do not include
compiling sources when the environment sets PYTHONDONTWRITEBYTECODE. The other installed
plugins stay as they are in both variants unless ``--quiet-plugins`` disables hypothesis's and
xdist's in both (less noise: their import dominates the start-up).

    .venv/bin/python benchmarks/bench_startup.py [--runs 20] [--quiet-plugins]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

PROJECT = {
    "pyproject.toml": '[project]\nname = "plain"\nversion = "0"\n\n[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n',
    "test_plain.py": "def test_plain():\n    assert 1 + 1 == 2\n",
}


def make_project(root: str) -> None:
    for name, text in PROJECT.items():
        with open(os.path.join(root, name), "w", encoding="utf-8") as fh:
            fh.write(text)


QUIET = ["-p", "no:hypothesispytest", "-p", "no:xdist", "-p", "no:xdist.looponfail"]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k != "PYTHONDONTWRITEBYTECODE"}


def run_once(root: str, extra: list[str]) -> float:
    cmd = [sys.executable, "-m", "pytest", "-q", *extra]
    env = _env()
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=root, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def import_cost() -> tuple[float, bool]:
    code = (
        "import sys, time, pytest\n"
        "t = time.perf_counter()\n"
        "import pytest_convshape.plugin\n"
        "dt = time.perf_counter() - t\n"
        "print(dt, 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=_env()).stdout.split()
    return float(out[0]), out[1] == "True"


def torch_after_run(root: str, base: list[str]) -> tuple[bool, bool]:
    """(plugin loaded, torch imported) after a whole in-process pytest run on the project."""
    code = (
        "import sys, pytest\n"
        f"pytest.main(['-q', *{base!r}])\n"
        "print('pytest_convshape.plugin' in sys.modules, 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=_env(), capture_output=True, text=True, check=True)
    loaded, torch = out.stdout.split()[-2:]
    return loaded == "True", torch == "True"


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLD_TARGET_S = 0.3  # the CLI on the bundled autoencoder within this of `python -c "import torch"`
GATE_TARGET = 0.10  # `pytest --co` with a gate at most this much slower than without

GATE_PROJECT = {
    "tests/test_plain.py": "def test_plain():\n    assert 1 + 1 == 2\n",
}
GATE_TABLES = (
    '\n[[tool.convshape.models]]\ntarget = "models.py:Autoencoder"\ninput = [1, 1, 28, 28]\n'
)


def _timed_cmd(cmd: list[str], cwd: str) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _interleaved(a: list[str], b: list[str], cwd_a: str, cwd_b: str, runs: int) -> tuple[list[float], list[float]]:
    for _ in range(2):  # warm the file cache and write bytecode
        _timed_cmd(a, cwd_a)
        _timed_cmd(b, cwd_b)
    ta, tb = [], []
    for _ in range(runs):
        ta.append(_timed_cmd(a, cwd_a))
        tb.append(_timed_cmd(b, cwd_b))
    return ta, tb


def cold_start(runs: int) -> None:
    """The CLI on the bundled autoencoder against a bare ``import torch`` (same venv), and
    ``pytest --co`` in a project with a ``[tool.convshape]`` gate against the same project
    without it; interleaved repetitions, medians."""
    exe = os.path.join(os.path.dirname(sys.executable), "convshape")
    cli = [exe if os.path.exists(exe) else sys.executable, *([] if os.path.exists(exe) else ["-m", "pytest_convshape"]),
           "examples/autoencoder.py:Autoencoder", "--input", "1,1,28,28", "--isolated"]
    t_cli, t_torch = _interleaved(cli, [sys.executable, "-c", "import torch"], ROOT, ROOT, runs)
    m_cli, m_torch = statistics.median(t_cli), statistics.median(t_torch)
    print(f"cold start, median of {runs} interleaved runs each")
    print(f"  convshape examples/autoencoder.py:Autoencoder --input 1,1,28,28: {m_cli * 1000:.0f} ms")
    print(f"  python -c 'import torch':                                       {m_torch * 1000:.0f} ms")
    diff = m_cli - m_torch
    print(f"  difference {diff * 1000:+.0f} ms, ratio {m_cli / m_torch:.2f} (target within {COLD_TARGET_S * 1000:.0f} ms): "
          f"{'met' if diff <= COLD_TARGET_S else 'MISSED'}")
    with tempfile.TemporaryDirectory() as with_gate, tempfile.TemporaryDirectory() as without_gate:
        for root, tables in ((with_gate, GATE_TABLES), (without_gate, "")):
            os.makedirs(os.path.join(root, "tests"))
            for name, text in GATE_PROJECT.items():
                with open(os.path.join(root, name), "w", encoding="utf-8") as fh:
                    fh.write(text)
            with open(os.path.join(ROOT, "examples", "autoencoder.py"), encoding="utf-8") as src, \
                    open(os.path.join(root, "models.py"), "w", encoding="utf-8") as dst:
                dst.write(src.read())
            with open(os.path.join(root, "pyproject.toml"), "w", encoding="utf-8") as fh:
                fh.write('[tool.pytest.ini_options]\ntestpaths = ["tests"]\naddopts = "-p no:cacheprovider"\n' + tables)
        co = [sys.executable, "-m", "pytest", "--co", "-q"]
        t_gate, t_plain = _interleaved(co, co, with_gate, without_gate, runs)
    m_gate, m_plain = statistics.median(t_gate), statistics.median(t_plain)
    extra = m_gate / m_plain - 1
    print(f"  pytest --co with a [tool.convshape] gate: {m_gate * 1000:.0f} ms; without: {m_plain * 1000:.0f} ms; "
          f"{extra * 100:+.1f}% (target <= {GATE_TARGET * 100:.0f}%): {'met' if extra <= GATE_TARGET else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per variant (default 20)")
    parser.add_argument("--quiet-plugins", action="store_true", help="disable hypothesis's and xdist's pytest plugins in both variants")
    parser.add_argument("--cold", action="store_true", help="only the cold-start comparisons (CLI vs import torch; pytest --co with and without a gate)")
    args = parser.parse_args()
    if args.cold:
        cold_start(args.runs)
        return
    base = QUIET if args.quiet_plugins else []
    with tempfile.TemporaryDirectory() as root:
        make_project(root)
        for _ in range(2):  # warm the file cache and write bytecode
            run_once(root, base)
            run_once(root, [*base, "-p", "no:convshape"])
        with_plugin, without = [], []
        for _ in range(args.runs):
            with_plugin.append(run_once(root, base))
            without.append(run_once(root, [*base, "-p", "no:convshape"]))
    imports = [import_cost() for _ in range(5)]
    with tempfile.TemporaryDirectory() as root:
        make_project(root)
        loaded, torch_in_run = torch_after_run(root, base)
    med_with, med_without = statistics.median(with_plugin), statistics.median(without)
    others = " (hypothesis and xdist plugins off in both)" if args.quiet_plugins else ""
    print(f"pytest start-up on a project without [tool.convshape], median of {args.runs} runs each{others}")
    print(f"  {'with pytest-convshape':<28}{'with -p no:convshape':<28}difference")
    print(f"  {med_with * 1000:>8.1f} ms{'':<17}{med_without * 1000:>8.1f} ms{'':<17}{(med_with - med_without) * 1000:+.1f} ms")
    paired = statistics.median(a - b for a, b in zip(with_plugin, without))
    print(f"  min {min(with_plugin) * 1000:.1f} ms / {min(without) * 1000:.1f} ms; median of paired differences {paired * 1000:+.1f} ms")
    cost = statistics.median(i[0] for i in imports)
    torch_loaded = any(i[1] for i in imports)
    print(f"import pytest_convshape.plugin after pytest: {cost * 1000:.2f} ms; torch imported: {'yes' if torch_loaded else 'no'}")
    print(f"after a whole pytest run: plugin loaded: {'yes' if loaded else 'no'}; torch imported: {'yes' if torch_in_run else 'no'}")
    print()
    cold_start(max(5, args.runs // 2))


if __name__ == "__main__":
    main()
