"""The ``convshape`` command (also ``python -m pytest_convshape``).

``convshape TARGET --input SHAPE`` checks one model; ``convshape`` without TARGET checks the
models of ``[tool.convshape]``. Either way the settings come from the nearest pyproject.toml
with a ``[tool.convshape]`` table, found by walking up from the working directory (or
``--config PATH``; ``--isolated`` reads none), and the flags are merged on top of them by
``policy.merge``, the same merge ``check()``, the fixture and the pytest items use.
``convshape rule CS101`` prints a rule's page, ``--list-rules`` the table of rules.

Exit codes: 0 nothing fails, 1 a finding fails the run (``--fail-on``), 2 usage or load
error, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__
from .sizes_text import SizeRangeError, parse_size_range

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
FORMATS = ("text", "json", "github", "sarif", "markdown")


class UsageError(Exception):
    """Bad command-line input; the message names the option and the value."""


# --------------------------------------------------------------------------- parsing values


def parse_inputs(items: Sequence[str]) -> Any:
    """The ``--input`` values as one input set (``inputspec.InputSet``)."""
    from .inputspec import InputSpecError, check_cli_set, parse_cli

    try:
        return check_cli_set([parse_cli(text) for text in items])
    except InputSpecError as exc:
        raise UsageError(str(exc)) from None


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


_SIZES_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*\.)?\d+$")


def parse_sizes(items: Sequence[str] | None) -> dict[Any, tuple[int, int, int]] | None:
    """``["2=8:512", "x.3=8:512:8"]`` -> ``{2: (8, 512, 1), "x.3": (8, 512, 8)}``."""
    if not items:
        return None
    out: dict[Any, tuple[int, int, int]] = {}
    for text in items:
        key, sep, spec = text.partition("=")
        syntax = f"--sizes {text!r}: expected [NAME.]DIM=FIRST:LAST[:STEP], for example 2=8:512"
        if not sep or not _SIZES_KEY.match(key.strip()):
            raise UsageError(syntax)
        try:
            size_range = parse_size_range(spec)
        except SizeRangeError as exc:
            raise UsageError(syntax if exc.syntax else f"--sizes {text!r}: {exc}") from None
        key = key.strip()
        out[int(key) if key.isdigit() else key] = size_range
    return out


# --------------------------------------------------------------------------- argv


_VALUE_FLAGS = ("--input", "--kwargs", "--sizes", "--pair", "--select", "--extend-select", "--ignore")


def _normalise_argv(argv: Sequence[str]) -> list[str]:
    """Join values argparse would misread to their flags: ``--input -1,1,28,28`` becomes
    ``--input=-1,1,28,28`` (so the value's own check explains it), and each value after
    ``--sizes`` that looks like ``DIM=...`` becomes its own ``--sizes=VALUE`` (so
    ``--sizes 2=8:64 models.py:Net`` leaves the TARGET alone)."""
    out: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        arg = items[i]
        if arg in _VALUE_FLAGS and i + 1 < len(items) and items[i + 1].startswith("-") and items[i + 1][1:2].isdigit():
            out.append(f"{arg}={items[i + 1]}")
            i += 2
            continue
        if arg == "--sizes":
            values = []
            j = i + 1
            while j < len(items) and not items[j].startswith("-") and "=" in items[j] and ":" not in items[j].partition("=")[0]:
                values.append(items[j])
                j += 1
            if values:
                out.extend(f"--sizes={v}" for v in values)
                i = j
                continue
        out.append(arg)
        i += 1
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convshape",
        description=(
            "Trace a PyTorch model on the meta device, pair each upsampling layer with the "
            "downsampling layer it should invert, and report every pair whose shapes do not "
            "round-trip, with the output_padding (or other change) that fixes it. "
            "`convshape rule CODE` prints a rule's page."
        ),
        epilog="exit status: 0 nothing fails, 1 a finding fails the run (see --fail-on), 2 usage or load error, 130 interrupted",
    )
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="TARGET",
        help="path/to/file.py:NAME or package.module:NAME (an nn.Module subclass, a factory, or an instance); "
        "without TARGET, the models of [tool.convshape] in the nearest pyproject.toml are checked",
    )
    parser.add_argument(
        "--input",
        dest="inputs",
        action="append",
        metavar="[NAME=]SHAPE[:DTYPE]",
        help="an input of forward(), e.g. 1,1,28,28, or x=1,3,64,64 and timestep=1:int64 for a model with several "
        "inputs (repeat once per input; SHAPE 'scalar' is a 0-d tensor; 2.0 or true is a plain value); required with TARGET",
    )
    parser.add_argument("--kwargs", metavar="JSON", help="keyword arguments for the class or factory, as a JSON object")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument(
        "--sizes",
        action="append",
        metavar="[NAME.]DIM=FIRST:LAST[:STEP]",
        help="sweep input dims, e.g. --sizes 2=8:512 3=8:512 (x.2=8:512 for the input named x): which sizes work, "
        "and for which sizes each fix holds",
    )
    parser.add_argument("--pair", dest="pairs", action="append", default=[], metavar="DOWN=UP", help="pair two layers explicitly (repeatable)")
    _add_rule_options(parser)
    _add_output_options(parser)
    _add_fix_options(parser)
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="the pyproject.toml to read [tool.convshape] from (default: the nearest one with that table, "
        "from the working directory up)",
    )
    parser.add_argument("--isolated", action="store_true", help="read no pyproject.toml")
    parser.add_argument("--verbose", "-v", action="store_true", help="show full tracebacks for load errors")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _add_rule_options(parser: argparse.ArgumentParser) -> None:
    rules = parser.add_argument_group("rules (codes such as CS101, prefixes such as CS1, or names such as shape-not-restored)")
    rules.add_argument("--select", action="append", metavar="RULES", help="report only these rules (comma-separated, repeatable); replaces select from pyproject.toml")
    rules.add_argument("--extend-select", action="append", metavar="RULES", help="report these rules in addition to the selected ones")
    rules.add_argument("--ignore", action="append", metavar="RULES", help="do not report these rules (comma-separated, repeatable); adds to ignore from pyproject.toml")
    rules.add_argument("--fail-on", choices=("error", "warning"), help="the lowest severity that fails the run (default: error, or fail-on from pyproject.toml)")
    rules.add_argument("--exit-zero", action="store_true", help="exit 0 even when a finding fails the run (usage errors still exit 2)")
    rules.add_argument("--list-rules", action="store_true", help="print the table of rules and exit")


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    out = parser.add_argument_group("output")
    out.add_argument("--statistics", action="store_true", help="print the number of findings per rule instead of the findings")
    out.add_argument("--quiet", "-q", action="store_true", help="print only the findings, one line each")
    out.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of standard output")
    out.add_argument("--show-diagram", action=argparse.BooleanOptionalAction, default=None,
                     help="draw the U diagram of the levels in the text report (default: when there are findings and stdout is a terminal)")
    out.add_argument("--html", metavar="PATH", help="also write a self-contained HTML report (diagram, findings, valid sizes) to PATH")


def _add_fix_options(parser: argparse.ArgumentParser) -> None:
    fixing = parser.add_argument_group("fixes (only fixes proven by a re-trace; never from pyproject.toml)")
    fixing.add_argument("--fix", action="store_true", help="write the fixes into the files that build the layers, then lint again")
    fixing.add_argument("--diff", action="store_true", help="print the fixes as a unified diff and change nothing")
    fixing.add_argument("--unsafe-fixes", action="store_true", help="also apply fixes that change behaviour at other input sizes")


# --------------------------------------------------------------------------- running


def run(argv: Sequence[str] | None = None) -> int:
    """The command; returns the exit status."""
    from . import progress

    items = list(sys.argv[1:] if argv is None else argv)
    try:
        with progress.showing(sys.stderr):
            if items[:1] == ["rule"]:
                return _rule_command(items[1:])
            return _run(items)
    except KeyboardInterrupt:
        sys.stderr.write("convshape: interrupted\n")
        return EXIT_INTERRUPTED


def _run(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(_normalise_argv(argv))
    if args.list_rules:
        from .rule_docs import rules_table_text

        sys.stdout.write(rules_table_text() + "\n")
        return EXIT_OK
    if args.targets and not args.inputs:
        parser.error("the following arguments are required: --input")
    if not args.targets:
        given = [flag for flag, value in (("--input", args.inputs), ("--kwargs", args.kwargs), ("--pair", args.pairs), ("--sizes", args.sizes)) if value]
        if given:
            parser.error(f"{', '.join(given)} need{'s' if len(given) == 1 else ''} a TARGET; without TARGET the models, inputs and pairs come from [tool.convshape]")
    try:
        _check_output(args.output)
        overrides = _overrides(args)
        if args.targets:
            inputs = parse_inputs(args.inputs)
            kwargs = parse_kwargs(args.kwargs)
            pairs = [parse_pair(p) for p in args.pairs]
            sizes = parse_sizes(args.sizes)
            settings = _settings(args, required=False)
            reports = _check_targets(args.targets, inputs, kwargs, pairs, sizes, settings, overrides)
        else:
            settings = _settings(args, required=True)
            reports = _check_configured(settings, overrides)
    except Exception as exc:
        return _usage_failure(exc, args.verbose)
    if args.fix or args.diff:
        from .fix_command import run_fixes

        return run_fixes(reports, args, argv)
    if args.html:
        from .render_html import render_html

        if not _write_file(args.html, render_html([r.to_dict() for r in reports]), "--html", args.verbose):
            return EXIT_USAGE
    text = _render(reports, args)
    if args.output:
        if not _write_file(args.output, text + "\n", "-o", args.verbose):
            return EXIT_USAGE
    elif text:
        sys.stdout.write(text + "\n")
    failed = not all(r.ok for r in reports)
    return EXIT_FINDINGS if failed and not args.exit_zero else EXIT_OK


def _write_file(path: str, text: str, flag: str, verbose: bool) -> bool:
    """Write an output file; on failure say which flag and why (the caller exits 2)."""
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        _usage_failure(UsageError(f"{flag} {path}: cannot write: {exc.strerror or exc}"), verbose)
        return False
    return True


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The rule flags as ``policy.merge`` takes them, checked once up front (messages name the flag)."""
    from .policy import merge

    given = {
        "select": args.select,
        "extend_select": args.extend_select,
        "ignore": args.ignore,
        "fail_on": args.fail_on,
    }
    given = {k: v for k, v in given.items() if v}
    merge(None, **given, where="--")
    return given


def _check_output(path: str | None) -> None:
    """Fail before any work when the report cannot be written where -o says."""
    if not path:
        return
    if os.path.isdir(path):
        raise UsageError(f"-o {path}: is a folder; give a file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"-o {path}: cannot write: folder {os.path.dirname(path) or '.'} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"-o {path}: cannot write: folder {os.path.dirname(path) or '.'} is not writable")


def _settings(args: argparse.Namespace, *, required: bool) -> Any:
    from .config import Settings, find, load

    if args.isolated:
        if required:
            raise UsageError("--isolated reads no pyproject.toml: give TARGET --input SHAPE")
        return Settings()
    path = args.config
    if path is not None:
        if os.path.isdir(path):
            raise UsageError(f"--config {path}: is a folder; give the pyproject.toml file")
        if not os.path.isfile(path):
            raise UsageError(f"--config {path}: file not found")
    else:
        found = find()
        if found is None:
            if required:
                raise UsageError(
                    "no TARGET given and no pyproject.toml with a [tool.convshape] table here or in a folder above; "
                    "give TARGET --input SHAPE, or --config PATH"
                )
            return Settings()
        path = str(found)
    settings = load(path)
    if required and not settings.models:
        what = "no [tool.convshape] table" if not settings.present else "no [[tool.convshape.models]] entries"
        raise UsageError(
            f"no TARGET given and {settings.display} has {what}; give TARGET --input SHAPE, or list models such as\n"
            f"  [[tool.convshape.models]]\n  target = \"path/to/models.py:Autoencoder\"\n  input = [1, 1, 28, 28]"
        )
    return settings


def _check_targets(targets, inputs, kwargs, pairs, sizes, settings, overrides) -> list:
    from .gate import add_source_roots, lint
    from .loader import build
    from .policy import merge

    if settings.present:
        add_source_roots(settings)
    policy = merge(settings.policy(), **overrides, where="--")
    reports = []
    for target in targets:
        built = build(target, kwargs)
        reports.append(lint(built, inputs, target=target, pairs=pairs, sizes=sizes, policy=policy))
    return reports


def _check_configured(settings, overrides) -> list:
    from .gate import Gate

    gate = Gate(settings)
    problems = gate.resolve_all()
    if problems:
        raise UsageError("\n".join(problems))
    return [gate.check(spec, inputs, overrides) for spec in settings.models for inputs in spec.inputs]


def _usage_failure(exc: Exception, verbose: bool) -> int:
    import traceback

    from .gate import ModelError
    from .loader import LoadError

    known = (UsageError, LoadError, ModelError, ValueError, TypeError)
    if verbose:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    if isinstance(exc, known):
        sys.stderr.write(f"convshape: error: {_cli_terms(str(exc))}\n")
    else:
        hint = "" if verbose else "; run again with --verbose for the traceback"
        sys.stderr.write(f"convshape: internal error: {type(exc).__name__}: {exc} (please report this{hint})\n")
    return EXIT_USAGE


def _cli_terms(message: str) -> str:
    """Messages written for ``check()`` callers, with the CLI's words for the same thing."""
    message = message.replace(
        "give the inputs it needs as example_inputs (a tuple of positional inputs or a dict of keyword inputs)",
        "give one --input per input of forward(), e.g. --input x=1,3,64,64 --input timestep=1:int64",
    )
    message = re.sub(
        r"add the batch dim: (\d+(?:x\d+)*)$",
        lambda m: f"add the batch dim: --input {m.group(1).replace('x', ',')}",
        message,
    )
    if "positional argument" in message and "were given" in message and "forward()" in message:
        message += "; to check several shapes, run convshape once per shape or sweep one with --sizes"
    return message


def _render(reports: list, args: argparse.Namespace) -> str:
    from . import report as rendering

    if args.statistics:
        return rendering.render_statistics(reports)
    if args.format == "json":
        return rendering.render_json(reports)
    if args.format == "github":
        return rendering.render_github(reports)
    if args.format == "sarif":
        return rendering.render_sarif(reports)
    if args.format == "markdown":
        from .render_markdown import render_markdown

        return render_markdown(reports)
    if args.quiet:
        return rendering.render_quiet(reports)
    return rendering.render_run(reports, exit_zero=args.exit_zero, diagram=_diagram_style(reports, args))


def _diagram_style(reports: list, args: argparse.Namespace) -> Any:
    """The diagram's style when it is shown: asked for, or findings on a terminal."""
    import shutil

    from .report import DiagramStyle

    show = args.show_diagram
    if show is None:
        show = not args.output and sys.stdout.isatty() and any(r.findings for r in reports)
    if not show:
        return None
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"  # a StringIO takes any text
    try:
        "✗─→≠└┘".encode(encoding)
        ascii_only = False
    except (UnicodeEncodeError, LookupError):
        ascii_only = True
    width = shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else 100
    return DiagramStyle(width=max(60, width), ascii_only=ascii_only)


def _rule_command(argv: list[str]) -> int:
    """``convshape rule CODE|NAME`` (a rule's page) and ``convshape rule --all``."""
    from .codes import suggestion
    from .rule_docs import rule_page_text, rules_table_text
    from .rules import NAMES, RULES

    parser = argparse.ArgumentParser(prog="convshape rule", description="Print a rule's page: what it checks, why, an example, the fix.")
    parser.add_argument("rule", nargs="?", metavar="CODE", help="a code (CS101) or a rule name (shape-not-restored)")
    parser.add_argument("--all", action="store_true", help="print every rule's page")
    args = parser.parse_args(argv)
    if args.all:
        sys.stdout.write("\n\n".join(rule_page_text(r) for r in RULES.values()) + "\n")
        return EXIT_OK
    if args.rule is None:
        sys.stdout.write(rules_table_text() + "\n")
        return EXIT_OK
    code = args.rule if args.rule in RULES else NAMES.get(args.rule)
    if code is None:
        close = suggestion(args.rule)
        hint = f"; did you mean {close!r}?" if close else ""
        sys.stderr.write(f"convshape: error: rule {args.rule!r}: no such rule{hint}; `convshape --list-rules` lists them\n")
        return EXIT_USAGE
    sys.stdout.write(rule_page_text(RULES[code]) + "\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run(argv))


if __name__ == "__main__":  # pragma: no cover
    main()
