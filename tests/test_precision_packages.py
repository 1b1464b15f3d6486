"""The precision judgement on models from real packages (MONAI), when the package is installed.

Not a dependency of the project (never in pyproject or CI): the module is skipped when
``monai`` is absent. To run it, use a separate venv with the same torch, e.g.::

    python3 -m venv venv-pkgs && venv-pkgs/bin/pip install torch==<the project's torch> monai einops pytest numpy
    PYTHONPATH=. venv-pkgs/bin/python -m pytest tests/test_precision_packages.py -q -p no:cacheprovider

The judgements are tests/precision/_judge.py's, the same as tests/test_precision.py's. Culprits
are every transposed conv of the model (the package's layer names are long and several can
explain a failure); "verified"/"none" claims are proven by test 1 with the oracle's search.
"""

from __future__ import annotations

import pytest

monai = pytest.importorskip("monai")
pytest.importorskip("einops")  # MONAI's ViT blocks (UNETR) need it

import torch  # noqa: E402
from monai.networks import nets  # noqa: E402
from precision import _judge as J  # noqa: E402
from precision import _oracle as O  # noqa: E402

from pytest_convshape import check  # noqa: E402


class _Family:
    """What the judgements need of a family module: ``__name__``, ``__doc__``, ``build``, ``KIND``, ``CASES``."""

    def __init__(self, name: str, doc: str, build, kind: str, cases: list[dict]) -> None:
        self.__name__ = f"packages.{name}"
        self.__doc__ = doc
        self.build = build
        self.KIND = kind
        self.CASES = cases


def _family(name: str, doc: str, build, kind: str, cases: list[dict]) -> _Family:
    torch.manual_seed(0)
    probe = build()
    ups = [n for n, m in probe.named_modules() if isinstance(m, torch.nn.modules.conv._ConvTransposeNd)]
    for case in cases:
        if not case["works"]:
            case.setdefault("culprits", ups)
    return _Family(name, doc, build, kind, cases)


FAMILIES = [
    _family(
        "monai_unet",
        "MONAI UNet: strided Conv(k3, s2, p1) downs, ConvTranspose(k3, s2, p1, output_padding=1) ups, "
        "residual units, skip concatenation. Works at multiples of 4; at 30 the inner cat raises "
        "(output_padding 0 on the inner deconv fixes it); at 31 the output is 32.",
        lambda: nets.UNet(2, 1, 1, channels=(4, 8, 16), strides=(2, 2), num_res_units=1),
        "restoring",
        [
            {"input": (1, 1, 32, 32), "works": True},
            {"input": (1, 1, 28, 36), "works": True},
            {"input": (1, 1, 30, 30), "works": False, "fix": "verified"},
            {"input": (1, 1, 31, 31), "works": False, "fix": "verified"},
        ],
    ),
    _family(
        "monai_basic_unet",
        "MONAI BasicUNet: MaxPool downs, ConvTranspose(k2, s2) ups and a replicate F.pad of the up "
        "when the skip is one larger (odd sizes): works at every size whose deepest level is >1.",
        lambda: nets.BasicUNet(2, 1, 1, features=(2, 2, 4, 4, 8, 2)),
        "restoring",
        [
            {"input": (1, 1, 32, 32), "works": True},
            {"input": (1, 1, 33, 33), "works": True},
            {"input": (1, 1, 50, 37), "works": True},
        ],
    ),
    _family(
        "monai_attention_unet",
        "MONAI AttentionUnet: the attention gate adds the up's output to the skip; at sizes that "
        "are not multiples of 4 the add raises (output_padding 0 on the up fixes it).",
        lambda: nets.AttentionUnet(2, 1, 1, channels=(2, 4, 8), strides=(2, 2)),
        "restoring",
        [
            {"input": (1, 1, 32, 32), "works": True},
            {"input": (1, 1, 30, 30), "works": False, "fix": "verified"},
            {"input": (1, 1, 31, 31), "works": False, "fix": "verified"},
        ],
    ),
    _family(
        "monai_dynunet",
        "MONAI DynUNet (nnU-Net): strided conv downs, ConvTranspose(k2, s2) ups, cat; at odd "
        "levels the up is one too large: no output_padding fixes it.",
        lambda: nets.DynUNet(2, 1, 1, kernel_size=[3, 3, 3], strides=[1, 2, 2], upsample_kernel_size=[2, 2], filters=[2, 4, 8]),
        "restoring",
        [
            {"input": (1, 1, 32, 32), "works": True},
            {"input": (1, 1, 28, 28), "works": True},
            {"input": (1, 1, 30, 30), "works": False, "fix": "none"},
            {"input": (1, 1, 31, 31), "works": False, "fix": "none"},
        ],
    ),
    _family(
        "monai_unetr",
        "MONAI UNETR (2-D, img_size 32): ViT patch embedding by 16, ConvTranspose(k2, s2) chains for "
        "the skips and the decoder. At 40 the patch grid is still 2x2 (the position embedding fits) "
        "and the last cat with the full-resolution encoder raises.",
        lambda: nets.UNETR(1, 1, img_size=(32, 32), feature_size=2, hidden_size=24, mlp_dim=24, num_heads=2, spatial_dims=2),
        "restoring",
        [
            {"input": (1, 1, 32, 32), "works": True},
            {"input": (1, 1, 40, 40), "works": False, "fix": "any"},
        ],
    ),
]

ALL = [(fam, i) for fam in FAMILIES for i in range(len(fam.CASES))]
FAILING = [(fam, i) for fam, i in ALL if not fam.CASES[i]["works"]]
WORKING = [(fam, i) for fam, i in ALL if fam.CASES[i]["works"]]


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


@pytest.mark.parametrize("fam,i", ALL, ids=_ids(ALL))
def test_linting_leaves_the_model_unchanged(fam, i):
    J.linting_leaves_the_model_unchanged(fam, fam.CASES[i])


# --------------------------------------------------------------------------- more MONAI networks
# The same rules on the rest of MONAI's encoder/decoders, judged directly against eager: no error
# where eager runs and gives back the input's size, an error where it does not, and when every
# error carries a fix, the model with those fixes written into it runs and restores the size.

S2 = [(1, 1, 64, 64), (1, 1, 63, 63), (1, 1, 66, 66), (1, 1, 60, 50)]
MORE = [
    ("SegResNet", lambda: nets.SegResNet(spatial_dims=2, init_filters=8, in_channels=1, out_channels=2), S2),
    ("VNet", lambda: nets.VNet(spatial_dims=3, in_channels=1, out_channels=2), [(1, 1, 32, 32, 32), (1, 1, 33, 32, 32), (1, 1, 30, 34, 36)]),
    ("AutoEncoder", lambda: nets.AutoEncoder(spatial_dims=2, in_channels=1, out_channels=1, channels=(4, 8, 16), strides=(2, 2, 2)), S2),
    ("VarAutoEncoder", lambda: nets.VarAutoEncoder(spatial_dims=2, in_shape=(1, 64, 64), out_channels=1, latent_size=8,
                                                   channels=(4, 8, 16), strides=(2, 2, 2)), S2),
    ("BasicUNetPlusPlus", lambda: nets.BasicUNetPlusPlus(spatial_dims=2, in_channels=1, out_channels=2, features=(4, 4, 8, 16, 32, 4)), S2),
    ("SwinUNETR", lambda: nets.SwinUNETR(in_channels=1, out_channels=2, feature_size=12, spatial_dims=2), [(1, 1, 64, 64), (1, 1, 63, 64), (1, 1, 96, 64)]),
    ("UNet-stride3", lambda: nets.UNet(spatial_dims=2, in_channels=1, out_channels=1, channels=(4, 8, 16), strides=(3, 2), num_res_units=1),
     [(1, 1, 60, 60), (1, 1, 61, 61), (1, 1, 66, 64), (1, 1, 64, 64)]),
    ("RegUNet", lambda: nets.RegUNet(spatial_dims=2, in_channels=1, num_channel_initial=4, depth=2, out_channels=2), S2),
    ("SegResNetDS", lambda: nets.SegResNetDS(spatial_dims=2, init_filters=8, in_channels=1, out_channels=2), S2),
]
MORE_CASES = [(name, build, size) for name, build, sizes in MORE for size in sizes]


def _eager_restores(model: torch.nn.Module, size: tuple[int, ...]) -> bool:
    try:
        with torch.no_grad():
            out = model(torch.randn(size))
    except Exception:
        return False
    out = out[0] if isinstance(out, (tuple, list)) else out
    return tuple(out.shape[2:]) == tuple(size[2:])


@pytest.mark.parametrize(("name", "build", "size"), MORE_CASES, ids=[f"{n}-{'x'.join(map(str, s[2:]))}" for n, _, s in MORE_CASES])
def test_more_monai_nets_agree_with_eager(name, build, size):
    torch.manual_seed(0)
    model = build().eval()
    works = _eager_restores(model, size)
    report = check(model, input_size=size)
    errors = report.errors
    assert bool(errors) != works, f"{name} at {size}: eager {'works' if works else 'fails'}\n{report}"
    assert all(f.fix is None or f.fix.verified for f in report.findings)
    if errors and all(f.fix is not None for f in errors):
        for f in report.findings:
            if f.fix is not None:
                model.get_submodule(f.fix.layer.split("#")[0]).output_padding = tuple(f.fix.output_padding)
        assert _eager_restores(model, size), f"{name} at {size}: with the fixes written in, eager still fails\n{report}"
