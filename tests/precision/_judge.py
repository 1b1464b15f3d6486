"""How the precision suite judges one linter report against eager torch (CONTRACT.md).

Shared by tests/test_precision.py (the hand-written families) and
tests/test_precision_packages.py (models from real packages). A "family" is anything with
``build()``, ``KIND``, ``CASES`` and a ``__name__`` (a module of this package, or a
``types.SimpleNamespace`` for a package model); see ``precision/__init__.py``.
"""

from __future__ import annotations

import functools
import types
import warnings
from dataclasses import dataclass
from typing import Any, Mapping

import torch

from . import _oracle as O


def lint(family: types.ModuleType, model: torch.nn.Module, case: Mapping[str, Any]):
    """``check()`` at the case's input size (and the family's ``PAIRS``)."""
    from pytest_convshape import check

    with warnings.catch_warnings(), O.one_thread():
        warnings.simplefilter("ignore", UserWarning)  # padding="same" with even kernels warns in eager
        return check(model, input_size=case["input"], pairs=getattr(family, "PAIRS", ()))


@dataclass
class Lint:
    report: Any
    crash: BaseException | None

    def get(self):
        if self.crash is not None:
            raise AssertionError(f"check() raised {type(self.crash).__name__}: {self.crash}") from self.crash
        return self.report


@functools.lru_cache(maxsize=None)
def cached_lint(family: types.ModuleType, index: int) -> Lint:
    """The report for ``family.CASES[index]`` on a fresh build, computed once per run."""
    try:
        return Lint(lint(family, O.build(family), family.CASES[index]), None)
    except Exception as exc:  # reported by every test that needs the report
        return Lint(None, exc)


def names(f) -> set[str]:
    return {n for n in (f.layer, f.up) if n}


def context(family, case, report, extra: str = "") -> str:
    lines = [
        f"{O.short(family)} ({family.KIND}) at {tuple(case['input'])}: {O.eager(family, case)}",
        f"declared: works={case['works']} culprits={case.get('culprits')} fix={case.get('fix')}",
    ]
    if extra:
        lines.append(extra)
    lines.append("report:")
    lines.append(str(report))
    return "\n".join(lines)


# --------------------------------------------------------------------------- the judgements


def cases_agree_with_eager(family, case) -> None:
    """The case's ``works`` matches eager; culprits exist; "verified"/"none" claims hold."""
    assert family.__doc__ and family.__doc__.strip(), f"{O.short(family)}: no docstring"
    assert family.KIND in O.KINDS
    model = O.build(family)
    got = O.eager(family, case, model)
    assert got.works(family.KIND) == case["works"], (
        f"{O.short(family)} at {case['input']}: declared works={case['works']}, eager: {got} "
        f"(KIND={family.KIND}); fix the case, not the oracle"
    )
    if case["works"]:
        assert "culprits" not in case and "fix" not in case, "a working case names no culprit and no fix"
        return
    assert case.get("culprits"), "a failing case names its culprits"
    assert case.get("fix") in O.FIX_CLAIMS, f"fix must be one of {O.FIX_CLAIMS}"
    for name in case["culprits"]:
        assert O.name_exists(model, name), f"culprit {name!r}: no module {O.module_path(name)!r} in the model"
    if case["fix"] == "any":
        return
    found = O.search_fix(family, case, case["culprits"])
    if case["fix"] == "verified":
        assert found is not None, f"declared fix=verified, but no output_padding of {case['culprits']} makes eager work"
    else:
        assert found is None, f"declared fix=none, but eager works with output_padding {found}"


def no_error_where_eager_works(family, case, report) -> None:
    errors = [f"{f.code} {f.layer or f.up}: {f.message}" for f in report.findings if f.severity == "error"]
    assert not errors, context(family, case, report, "eager works, but the report has errors:\n  " + "\n  ".join(errors))


def error_names_the_culprit(family, case, report) -> None:
    errors = [f for f in report.findings if f.severity == "error"]
    assert errors, context(family, case, report, "eager fails, but the report has no error")
    named = [f for f in errors if names(f) & set(case["culprits"])]
    assert named, context(family, case, report, f"no error finding names a culprit {case['culprits']}")
    unverified = [f for f in report.findings if f.fix is not None and f.fix.verified is not True]
    assert not unverified, context(family, case, report, f"fixes without verified=True: {[f.fix for f in unverified]}")


def fixes_work_in_eager(family, case, report) -> None:
    """"verified": a culprit finding has a fix; "none": culprit findings have none and say so;
    every fix of an error finding applies legally, and when every error has a fix the fixed
    model works in eager and its own report has no error."""
    errors = [f for f in report.findings if f.severity == "error"]
    culprit_findings = [f for f in errors if names(f) & set(case["culprits"])]
    fixes = [(f.fix.layer, tuple(f.fix.output_padding)) for f in errors if f.fix is not None]

    if case["fix"] == "verified":
        assert any(f.fix is not None for f in culprit_findings), context(
            family, case, report, f"an output_padding of {case['culprits']} fixes this in eager; no culprit finding has a fix"
        )
    if case["fix"] == "none":
        # No output_padding makes eager work: the report must not claim its fixes do, so some
        # error keeps no fix. A fix on one culprit is fine when another culprit has none (it
        # holds once that one is changed some other way, and is proven that way).
        probe = O.build(family)
        assert any(f.fix is None for f in errors), context(
            family, case, report, f"no output_padding fixes this in eager, but every error comes with one: {fixes}"
        )
        for f in culprit_findings:
            if f.fix is not None:
                continue
            if any(O.is_transposed(probe, family, n) for n in names(f)):
                assert "output_padding" in f.message, context(
                    family, case, report, f"{f.code} {f.layer}: an unfixable transposed conv's message must say no output_padding fixes it"
                )

    if not fixes:
        return
    model = O.build(family)
    try:
        O.apply_fixes(family, model, fixes)
    except Exception as exc:
        raise AssertionError(context(family, case, report, f"the reported fixes cannot be applied in eager: {exc}")) from exc
    for layer, op in fixes:
        try:
            m = model.get_submodule(O.module_path(layer))
        except AttributeError:
            continue
        if isinstance(m, torch.nn.modules.conv._ConvTransposeNd):
            bounds = [max(s, d) for s, d in zip(m.stride, m.dilation)]
            assert all(0 <= v < b for v, b in zip(op, bounds)), context(
                family, case, report, f"fix {layer} output_padding={op} is illegal (must be below {bounds})"
            )
    if any(f.fix is None for f in errors):
        return  # other errors have no fix: the fixed model is not expected to work yet
    after = O.run(model, case["input"])
    assert after.works(family.KIND), context(family, case, report, f"with the fixes {fixes} applied: {after}")
    relint = lint(family, model, case)
    assert relint.ok, context(family, case, relint, f"the fixed model works in eager (fixes {fixes}); its report must have no error")


def _decorate(model: torch.nn.Module) -> torch.nn.Module:
    """Training mode with one child in eval, a forward hook, a pre-hook, one frozen parameter."""
    model.train()
    children = list(model.children())
    if children:
        children[-1].eval()
        children[0].register_forward_pre_hook(lambda m, args: None)
    model.register_forward_hook(lambda m, args, out: None)
    params = list(model.parameters())
    if params:
        params[0].requires_grad_(False)
    return model


def linting_leaves_the_model_unchanged(family, case) -> None:
    model = _decorate(O.build(family))
    before = O.snapshot(model)
    try:
        lint(family, model, case)
    except Exception:
        pass  # a crash is the other tests' business; the model must still be unchanged
    changes = O.diff_snapshots(before, O.snapshot(model))
    assert not changes, f"{O.short(family)} at {case['input']}: linting changed the model:\n  " + "\n  ".join(changes)
