"""``convshape --diff`` / ``--fix`` / ``--unsafe-fixes``: the CLI side of ``fixer``.

``--diff`` prints the edits as a unified diff and changes nothing (exit 1 when there is
something to fix, like ruff). ``--fix`` writes them, then lints again in a fresh process (the
edited modules must be imported anew) and reports what remains; a fixed layer that is still
reported is said plainly. Refusals and fixes held back for ``--unsafe-fixes`` go to stderr,
one line each.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from . import fixer
from .records import display_path, plural
from .report import Report

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
_DROP_FLAGS = {"--fix", "--diff", "--unsafe-fixes", "--statistics", "--quiet", "-q", "--exit-zero"}
_DROP_WITH_VALUE = {"--format", "--output", "-o"}


def run_fixes(reports: Sequence[Report], args: argparse.Namespace, argv: Sequence[str]) -> int:
    plan = fixer.plan(reports)
    edits = plan.applicable(args.unsafe_fixes)
    for refusal in plan.refusals:
        sys.stderr.write(refusal.line() + "\n")
    for held in plan.held_back(args.unsafe_fixes):
        sys.stderr.write(f"convshape: not fixed without --unsafe-fixes: {held.description} ({_where(held)}): {held.unsafe_because}\n")
    for line in _without_a_fix(reports):
        sys.stderr.write(line + "\n")
    if args.diff:
        text = fixer.unified_diff(edits)
        if text:
            sys.stdout.write(text)
        sys.stderr.write(f"convshape: {plural(len(edits), 'fix', 'fixes')} to apply with --fix{_held_note(plan, args)}\n")
        failed = not all(r.ok for r in reports)
        return EXIT_FINDINGS if edits or (failed and not args.exit_zero) else EXIT_OK
    if not edits:
        sys.stderr.write(f"convshape: nothing to fix{_held_note(plan, args)}\n")
        return EXIT_FINDINGS if not all(r.ok for r in reports) and not args.exit_zero else EXIT_OK
    refused = fixer.write(edits)
    for refusal in refused:
        sys.stderr.write(refusal.line() + "\n")
    written = [e for e in edits if not any(r.layer == e.layer for r in refused)]
    return _relint(written, args, argv)


def _without_a_fix(reports: Sequence[Report]) -> list[str]:
    """One line per failing finding that has no fix to write, with what the report suggests."""
    lines = []
    for report in reports:
        for f in report.findings:
            if f.severity == "info" or (f.fix is not None and f.fix.verified):
                continue
            who = f.up or f.layer
            where = f" ({f.location})" if f.location else ""
            hint = f"the report suggests: {f.suggestions[0]}" if f.suggestions else "see the report without --diff/--fix"
            lines.append(f"convshape: no fix to write for {f.code}{f' on {who}' if who else ''}{where}: {hint}")
    return lines


def _where(edit: fixer.Edit) -> str:
    return display_path(edit.file)


def _held_note(plan: fixer.Plan, args: argparse.Namespace) -> str:
    held = plan.held_back(args.unsafe_fixes)
    return f" ({plural(len(held), 'more fix', 'more fixes')} with --unsafe-fixes)" if held else ""


def relint_argv(argv: Sequence[str]) -> list[str]:
    """The same check, as JSON, without the fixing and output flags."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in _DROP_FLAGS:
            continue
        if name in _DROP_WITH_VALUE:
            skip = "=" not in arg
            continue
        out.append(arg)
    return [*out, "--format", "json"]


def _relint(written: Sequence[fixer.Edit], args: argparse.Namespace, argv: Sequence[str]) -> int:
    files = sorted({display_path(e.file) for e in written})
    sys.stdout.write(f"convshape: fixed {plural(len(written), 'layer')} in {', '.join(files)}; linting again\n")
    proc = subprocess.run([sys.executable, "-m", "pytest_convshape", *relint_argv(argv)], capture_output=True, text=True)
    try:
        models: list[dict[str, Any]] = json.loads(proc.stdout)["models"]
    except (ValueError, KeyError):
        sys.stderr.write(f"convshape: the re-lint after --fix failed (exit {proc.returncode}):\n{proc.stderr}")
        return EXIT_USAGE
    fixed = {e.layer for e in written}
    still = [f for m in models for f in m.get("findings", []) if f.get("fix") and (f.get("up") in fixed or f.get("layer") in fixed)]
    for f in still:
        sys.stdout.write(f"convshape: the re-lint still reports {f['code']} on {f.get('up') or f.get('layer')}: {f['message']}\n")
    remaining = [f for m in models for f in m.get("findings", [])]
    for f in remaining:
        where = f" ({f['location']})" if f.get("location") else ""
        sys.stdout.write(f"  {f['code']} {f['severity']}: {f['message']}{where}\n")
    ok = all(m.get("ok", True) for m in models)
    sys.stdout.write(f"convshape: after --fix: {plural(len(remaining), 'finding')} {'remains' if len(remaining) == 1 else 'remain'}; {'ok' if ok else 'FAILED'}\n")
    return EXIT_OK if ok or args.exit_zero else EXIT_FINDINGS
