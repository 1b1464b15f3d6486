"""The ``convshape`` command (also ``python -m pytest_convshape``).

``convshape TARGET --input SHAPE`` checks one model; ``convshape`` without TARGET checks the
models of ``[tool.convshape]`` in ./pyproject.toml (or ``--config PATH``). Inline
``# convshape: ignore[...]`` comments apply in both modes.

Exit codes: 0 no error findings, 1 error findings, 2 usage or load error.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from typing import Any, Sequence

from . import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
FORMATS = ("text", "json", "github", "sarif")


class UsageError(Exception):
    """Bad command-line input; the message names the option and the value."""


def parse_shape(text: str, what: str = "--input") -> tuple[int, ...]:
    parts = text.replace("x", ",").split(",") if text else []
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if not shape or any(s <= 0 for s in shape):
        raise UsageError(f"{what} {text!r}: expected comma-separated positive ints such as 1,1,28,28")
    return shape


def parse_kwargs(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--kwargs {text!r} is not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(value, dict):
        raise UsageError(f"--kwargs {text!r} must be a JSON object such as '{{\"channels\": 3}}'")
    return value


def parse_pair(text: str) -> tuple[str, str]:
    down, sep, up = text.partition("=")
    if not sep or not down or not up:
        raise UsageError(f"--pair {text!r}: expected DOWN=UP, for example encoder.0=decoder.0")
    return down, up


def parse_sizes(items: Sequence[str] | None) -> dict[int, tuple[int, int, int]] | None:
    """``["2=8:512", "3=8:512:8"]`` -> ``{2: (8, 512, 1), 3: (8, 512, 8)}``."""
    if not items:
        return None
    out: dict[int, tuple[int, int, int]] = {}
    for text in items:
        dim, sep, spec = text.partition("=")
        try:
            nums = [int(p) for p in spec.split(":")] if sep else []
        except ValueError:
            nums = []
        if not dim.strip().isdigit() or len(nums) not in (2, 3):
            raise UsageError(f"--sizes {text!r}: expected DIM=FIRST:LAST[:STEP], for example 2=8:512")
        first, last, step = nums[0], nums[1], nums[2] if len(nums) == 3 else 1
        if first < 1 or last < first or step < 1:
            raise UsageError(f"--sizes {text!r}: expected 1 <= FIRST <= LAST and STEP >= 1")
        out[int(dim)] = (first, last, step)
    return out


_VALUE_FLAGS = ("--input", "--kwargs", "--sizes", "--pair", "--select", "--ignore")


def _join_negative_values(argv: Sequence[str]) -> list[str]:
    """``--input -1,1,28,28`` -> ``--input=-1,1,28,28``: argparse would take the value for an
    option and say "expected one argument"; this way the value's own check explains it."""
    out: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        arg = items[i]
        if arg in _VALUE_FLAGS and i + 1 < len(items) and items[i + 1].startswith("-") and items[i + 1][1:2].isdigit():
            out.append(f"{arg}={items[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def _check_output(path: str | None) -> None:
    """Fail before any work when the report cannot be written where -o says."""
    if not path:
        return
    import os

    if os.path.isdir(path):
        raise UsageError(f"-o {path}: is a folder; give a file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"-o {path}: cannot write: folder {os.path.dirname(path) or '.'} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"-o {path}: cannot write: folder {os.path.dirname(path) or '.'} is not writable")


def parse_codes(text: str | None) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip()) if text else ()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convshape",
        description=(
            "Trace a PyTorch model on the meta device, pair each upsampling layer with the "
            "downsampling layer it should invert, and report every pair whose shapes do not "
            "round-trip, with the output_padding (or other change) that fixes it."
        ),
        epilog="exit status: 0 no error findings, 1 error findings, 2 usage or load error",
    )
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="TARGET",
        help="path/to/file.py:NAME or package.module:NAME (an nn.Module subclass, a factory, or an instance); "
        "without TARGET, the models of [tool.convshape] in ./pyproject.toml are checked",
    )
    parser.add_argument("--input", dest="inputs", action="append", metavar="SHAPE", help="input shape, e.g. 1,1,28,28 (repeat for several; required with TARGET)")
    parser.add_argument("--kwargs", metavar="JSON", help="keyword arguments for the class or factory, as a JSON object")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument(
        "--sizes",
        nargs="+",
        action="extend",
        metavar="DIM=FIRST:LAST[:STEP]",
        help="sweep input dims, e.g. --sizes 2=8:512 3=8:512: which sizes work, and for which sizes each fix holds",
    )
    parser.add_argument("--pair", dest="pairs", action="append", default=[], metavar="DOWN=UP", help="pair two layers explicitly (repeatable)")
    parser.add_argument("--select", metavar="CODES", help="only report these codes or prefixes, comma-separated (e.g. CS1,CS201)")
    parser.add_argument("--ignore", metavar="CODES", help="do not report these codes or prefixes, comma-separated")
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="pyproject.toml to read [tool.convshape] from (default: ./pyproject.toml when no TARGET is given; "
        "with TARGET its select, ignore and per-module-ignores apply)",
    )
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of standard output")
    parser.add_argument("--verbose", "-v", action="store_true", help="show full tracebacks for load errors")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_join_negative_values(sys.argv[1:] if argv is None else argv))
    if args.targets and not args.inputs:
        parser.error("the following arguments are required: --input")
    if not args.targets:
        given = [flag for flag, value in (("--input", args.inputs), ("--kwargs", args.kwargs), ("--pair", args.pairs), ("--sizes", args.sizes)) if value]
        if given:
            parser.error(f"{', '.join(given)} need{'s' if len(given) == 1 else ''} a TARGET; without TARGET the models, inputs and pairs come from [tool.convshape]")
    try:
        _check_output(args.output)
        select, ignore = parse_codes(args.select), parse_codes(args.ignore)
        if args.targets:
            inputs = [parse_shape(s) for s in args.inputs]
            kwargs = parse_kwargs(args.kwargs)
            pairs = [parse_pair(p) for p in args.pairs]
            sizes = parse_sizes(args.sizes)
            settings = _settings(args.config, required=False)
            reports = _check_all(args.targets, inputs, kwargs, pairs, select, ignore, settings, sizes)
        else:
            settings = _settings(args.config or "pyproject.toml", required=True)
            reports = _check_configured(settings, select, ignore)
    except Exception as exc:  # every failure here is the user's input, stated in one line
        return _usage_failure(exc, args.verbose)
    text = _render(reports, args.format)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        except OSError as exc:
            return _usage_failure(UsageError(f"-o {args.output}: cannot write: {exc.strerror or exc}"), args.verbose)
    else:
        sys.stdout.write(text + "\n")
    return EXIT_OK if all(r.ok for r in reports) else EXIT_FINDINGS


def _settings(path: str | None, *, required: bool) -> Any:
    from .config import Settings, load

    if path is None:
        return Settings()
    import os

    if os.path.isdir(path):
        raise UsageError(f"--config {path}: is a folder; give the pyproject.toml file")
    if not os.path.isfile(path):
        if required and path == "pyproject.toml":
            raise UsageError("no TARGET given and no pyproject.toml here; give TARGET --input SHAPE, or --config PATH")
        raise UsageError(f"--config {path}: file not found")
    settings = load(path)
    if required and not settings.models:
        what = "no [tool.convshape] table" if not settings.present else "no [[tool.convshape.models]] entries"
        raise UsageError(
            f"no TARGET given and {path} has {what}; give TARGET --input SHAPE, or list models such as\n"
            f"  [[tool.convshape.models]]\n  target = \"path/to/models.py:Autoencoder\"\n  input = [1, 1, 28, 28]"
        )
    return settings


def _check_all(targets, inputs, kwargs, pairs, select, ignore, settings=None, sizes=None) -> list:
    from .gate import lint
    from .loader import build

    from .inputs import validate_codes

    validate_codes(select, "--select")
    validate_codes(ignore, "--ignore")
    select = tuple(select) or (settings.select if settings else ())
    ignore = (settings.ignore if settings else ()) + tuple(ignore)
    globs = settings.per_module_ignores if settings else ()
    reports = []
    for target in targets:
        built = build(target, kwargs)
        for shape in inputs:
            reports.append(
                lint(built, shape, target=target, pairs=pairs, sizes=sizes, select=select, ignore=ignore, per_module_ignores=globs)
            )
    return reports


def _check_configured(settings, select, ignore) -> list:
    from .inputs import validate_codes
    from .gate import Gate

    validate_codes(select, "--select")
    validate_codes(ignore, "--ignore")
    gate = Gate(settings)
    problems = gate.resolve_all()
    if problems:
        raise UsageError("\n".join(problems))
    return [gate.check(spec, shape, select=select, ignore=ignore) for spec in settings.models for shape in spec.inputs]


def _usage_failure(exc: Exception, verbose: bool) -> int:
    from .gate import ModelError
    from .loader import LoadError

    known = (UsageError, LoadError, ModelError, ValueError, TypeError)
    if verbose or not isinstance(exc, known):
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    if isinstance(exc, known):
        sys.stderr.write(f"convshape: error: {exc}\n")
    else:
        sys.stderr.write(f"convshape: internal error: {type(exc).__name__}: {exc} (please report this with the traceback above)\n")
    return EXIT_USAGE


def _render(reports: list, fmt: str) -> str:
    from . import report as rendering

    if fmt == "json":
        return rendering.render_json(reports)
    if fmt == "github":
        return rendering.render_github(reports)
    if fmt == "sarif":
        return rendering.render_sarif(reports)
    return "\n\n".join(str(r) for r in reports)


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run(argv))


if __name__ == "__main__":  # pragma: no cover
    main()
