"""The precision suite: realistic non-mirror architectures judged by eager torch (CONTRACT.md).

Each module in tests/precision/ is one architecture family with input sizes where eager torch
works and sizes where it fails (see tests/precision/__init__.py for the module contract and
tests/precision/_oracle.py for the oracle). For every (family, size):

1. the case's declared ``works`` (and its fix claim) agrees with eager torch (the suite checks
   itself);
2. works -> ``check()`` reports no error;
3. fails -> an error names the culprit, and every fix is verified;
4. fails -> every fix of an error finding works in eager ("verified": there is one; "none":
   the culprit findings have no fix and say so);
5. linting leaves the model unchanged (one size per family, failing if it has one).

The linter's report is computed once per case (``_lint``) and shared by tests 2-4.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import pytest
import torch

from precision import _oracle as O
from pytest_convshape import check

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

FAMILIES = O.families()
ALL = [(fam, i) for fam in FAMILIES for i in range(len(fam.CASES))]
FAILING = [(fam, i) for fam, i in ALL if not fam.CASES[i]["works"]]
WORKING = [(fam, i) for fam, i in ALL if fam.CASES[i]["works"]]
# test 5 lints its own decorated copy at one size per family: the first failing one (the linter
# does the most there: virtual fixes, re-traces), else the first
SAMPLE = [(fam, next((j for j, c in enumerate(fam.CASES) if not c["works"]), 0)) for fam in FAMILIES]


def _ids(items):
    return [f"{O.short(fam)}-{O.size_id(fam.CASES[i])}" for fam, i in items]


@dataclass
class Lint:
    report: object | None
    crash: BaseException | None

    def get(self):
        if self.crash is not None:
            raise AssertionError(f"check() raised {type(self.crash).__name__}: {self.crash}") from self.crash
        return self.report


def _check(fam, model, case):
    with warnings.catch_warnings(), O.one_thread():
        warnings.simplefilter("ignore", UserWarning)  # padding="same" with even kernels warns in eager
        return check(model, input_size=case["input"], pairs=getattr(fam, "PAIRS", ()))


@functools.lru_cache(maxsize=None)
def _lint(fam, i) -> Lint:
    try:
        return Lint(_check(fam, O.build(fam), fam.CASES[i]), None)
    except Exception as exc:  # reported by every test that needs the report
        return Lint(None, exc)


def _names(f) -> set[str]:
    return {n for n in (f.layer, f.up) if n}


def _context(fam, case, report, extra: str = "") -> str:
    lines = [
        f"{O.short(fam)} ({fam.KIND}) at {case['input']}: {O.eager(fam, case)}",
        f"declared: works={case['works']} culprits={case.get('culprits')} fix={case.get('fix')}",
    ]
    if extra:
        lines.append(extra)
    lines.append("report:")
    lines.append(str(report))
    return "\n".join(lines)


# --------------------------------------------------------------------------- 1. the suite checks itself


@pytest.mark.parametrize("fam,i", ALL, ids=_ids(ALL))
def test_cases_agree_with_eager(fam, i):
    case = fam.CASES[i]
    assert fam.__doc__ and fam.__doc__.strip(), f"{O.short(fam)}: no docstring"
    assert fam.KIND in O.KINDS
    model = O.build(fam)
    got = O.eager(fam, case, model)
    assert got.works(fam.KIND) == case["works"], (
        f"{O.short(fam)} at {case['input']}: declared works={case['works']}, eager: {got} "
        f"(KIND={fam.KIND}); fix the case, not the oracle"
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
    found = O.search_fix(fam, case, case["culprits"])
    if case["fix"] == "verified":
        assert found is not None, f"declared fix=verified, but no output_padding of {case['culprits']} makes eager work"
    else:
        assert found is None, f"declared fix=none, but eager works with output_padding {found}"


# --------------------------------------------------------------------------- 2. no false errors


@pytest.mark.parametrize("fam,i", WORKING, ids=_ids(WORKING))
def test_no_error_where_eager_works(fam, i):
    case = fam.CASES[i]
    report = _lint(fam, i).get()
    errors = [f"{f.code} {f.layer or f.up}: {f.message}" for f in report.findings if f.severity == "error"]
    assert not errors, _context(fam, case, report, "eager works, but the report has errors:\n  " + "\n  ".join(errors))


# --------------------------------------------------------------------------- 3. errors name the culprit


@pytest.mark.parametrize("fam,i", FAILING, ids=_ids(FAILING))
def test_error_names_the_culprit_where_eager_fails(fam, i):
    case = fam.CASES[i]
    report = _lint(fam, i).get()
    errors = [f for f in report.findings if f.severity == "error"]
    assert errors, _context(fam, case, report, "eager fails, but the report has no error")
    named = [f for f in errors if _names(f) & set(case["culprits"])]
    assert named, _context(fam, case, report, f"no error finding names a culprit {case['culprits']}")
    unverified = [f for f in report.findings if f.fix is not None and f.fix.verified is not True]
    assert not unverified, _context(fam, case, report, f"fixes without verified=True: {[f.fix for f in unverified]}")


# --------------------------------------------------------------------------- 4. fixes work in eager


@pytest.mark.parametrize("fam,i", FAILING, ids=_ids(FAILING))
def test_fixes_work_in_eager(fam, i):
    case = fam.CASES[i]
    report = _lint(fam, i).get()
    errors = [f for f in report.findings if f.severity == "error"]
    culprit_findings = [f for f in errors if _names(f) & set(case["culprits"])]
    fixes = [(f.fix.layer, tuple(f.fix.output_padding)) for f in errors if f.fix is not None]

    if case["fix"] == "verified":
        assert any(f.fix is not None for f in culprit_findings), _context(
            fam, case, report, f"an output_padding of {case['culprits']} fixes this in eager; no culprit finding has a fix"
        )
    if case["fix"] == "none":
        probe = O.build(fam)
        wrong = [f for f in culprit_findings if f.fix is not None]
        assert not wrong, _context(fam, case, report, f"no output_padding fixes this in eager, but the report offers {[f.fix for f in wrong]}")
        for f in culprit_findings:
            if any(O.is_transposed(probe, fam, n) for n in _names(f)):
                assert "output_padding" in f.message, _context(
                    fam, case, report, f"{f.code} {f.layer}: an unfixable transposed conv's message must say no output_padding fixes it"
                )

    if not fixes:
        return
    model = O.build(fam)
    try:
        O.apply_fixes(fam, model, fixes)
    except Exception as exc:
        raise AssertionError(_context(fam, case, report, f"the reported fixes cannot be applied in eager: {exc}")) from exc
    for layer, op in fixes:
        try:
            m = model.get_submodule(O.module_path(layer))
        except AttributeError:
            continue
        if isinstance(m, torch.nn.modules.conv._ConvTransposeNd):
            bounds = [max(s, d) for s, d in zip(m.stride, m.dilation)]
            assert all(0 <= v < b for v, b in zip(op, bounds)), _context(
                fam, case, report, f"fix {layer} output_padding={op} is illegal (must be below {bounds})"
            )
    if any(f.fix is None for f in errors):
        return  # other errors have no fix: the fixed model is not expected to work yet
    after = O.run(model, case["input"])
    assert after.works(fam.KIND), _context(fam, case, report, f"with the fixes {fixes} applied: {after}")
    relint = _check(fam, model, case)
    assert relint.ok, _context(fam, case, relint, f"the fixed model works in eager (fixes {fixes}); its report must have no error")


# --------------------------------------------------------------------------- 5. linting changes nothing


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


@pytest.mark.parametrize("fam,i", SAMPLE, ids=_ids(SAMPLE))
def test_linting_leaves_the_model_unchanged(fam, i):
    case = fam.CASES[i]
    model = _decorate(O.build(fam))
    before = O.snapshot(model)
    try:
        _check(fam, model, case)
    except Exception:
        pass  # a crash is test 2/3's business; the model must still be unchanged
    changes = O.diff_snapshots(before, O.snapshot(model))
    assert not changes, f"{O.short(fam)} at {case['input']}: linting changed the model:\n  " + "\n  ".join(changes)
