"""The precision suite: realistic non-mirror architectures judged by eager torch (CONTRACT.md).

Each module in tests/precision/ is one architecture family with input sizes where eager torch
works and sizes where it fails (see tests/precision/__init__.py for the module contract,
tests/precision/_oracle.py for the oracle and tests/precision/_judge.py for the judgements).
For every (family, size):

1. the case's declared ``works`` (and its fix claim) agrees with eager torch (the suite checks
   itself);
2. works -> ``check()`` reports no error;
3. fails -> an error names the culprit, and every fix is verified;
4. fails -> every fix of an error finding works in eager ("verified": there is one; "none":
   the culprit findings have no fix and say so);
5. linting leaves the model unchanged (one size per family, failing if it has one).

The linter's report is computed once per case and shared by tests 2-4.
"""

from __future__ import annotations

import pytest
from precision import _judge as J
from precision import _oracle as O

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


@pytest.mark.parametrize("fam,i", ALL, ids=_ids(ALL))
def test_cases_agree_with_eager(fam, i):
    J.cases_agree_with_eager(fam, fam.CASES[i])


@pytest.mark.parametrize("fam,i", WORKING, ids=_ids(WORKING))
def test_no_error_where_eager_works(fam, i):
    J.no_error_where_eager_works(fam, fam.CASES[i], J.cached_lint(fam, i).get())


@pytest.mark.parametrize("fam,i", FAILING, ids=_ids(FAILING))
def test_error_names_the_culprit_where_eager_fails(fam, i):
    J.error_names_the_culprit(fam, fam.CASES[i], J.cached_lint(fam, i).get())


@pytest.mark.parametrize("fam,i", FAILING, ids=_ids(FAILING))
def test_fixes_work_in_eager(fam, i):
    J.fixes_work_in_eager(fam, fam.CASES[i], J.cached_lint(fam, i).get())


@pytest.mark.parametrize("fam,i", SAMPLE, ids=_ids(SAMPLE))
def test_linting_leaves_the_model_unchanged(fam, i):
    J.linting_leaves_the_model_unchanged(fam, fam.CASES[i])
