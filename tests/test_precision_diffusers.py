"""The precision rules on diffusers' models, when diffusers is installed: at each size the linter
agrees with eager torch (no error where eager runs and gives back the input's size; an error
naming a layer where it raises or does not).

Not a dependency of the project (never in pyproject or CI): skipped when ``diffusers`` is absent.
Run it in a separate venv with the same torch, e.g.::

    python3 -m venv venv-pkgs && venv-pkgs/bin/pip install torch==<the project's torch> diffusers pytest
    venv-pkgs/bin/pip install -e . && venv-pkgs/bin/python -m pytest tests/test_precision_diffusers.py -q -p no:cacheprovider
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

diffusers = pytest.importorskip("diffusers")

import torch  # noqa: E402

from pytest_convshape import check  # noqa: E402


def _unet2d() -> torch.nn.Module:
    return diffusers.UNet2DModel(
        sample_size=32, in_channels=3, out_channels=3, layers_per_block=1, block_out_channels=(32, 64, 64),
        down_block_types=("DownBlock2D", "AttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "AttnUpBlock2D", "UpBlock2D"),
        norm_num_groups=8,
    )


def _vae() -> torch.nn.Module:
    return diffusers.AutoencoderKL(
        in_channels=3, out_channels=3, block_out_channels=(32, 64), layers_per_block=1, down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2, norm_num_groups=8, latent_channels=4,
    )


def _vq() -> torch.nn.Module:
    return diffusers.VQModel(
        in_channels=3, out_channels=3, block_out_channels=(32, 64), layers_per_block=1, down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2, norm_num_groups=8, latent_channels=4,
    )


def _cond_unet() -> torch.nn.Module:
    return diffusers.UNet2DConditionModel(
        sample_size=16, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(32, 64),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32, norm_num_groups=8, attention_head_dim=8,
    )


def _timestep(batch: int) -> dict[str, torch.Tensor]:
    return {"timestep": torch.tensor([10] * batch)}


def _text(batch: int) -> dict[str, torch.Tensor]:
    return {"timestep": torch.tensor([10] * batch), "encoder_hidden_states": torch.randn(batch, 7, 32)}


CASES: list[tuple[str, Callable[[], torch.nn.Module], tuple[int, ...], Callable[[int], dict[str, Any]] | None]] = [
    *(("UNet2DModel", _unet2d, size, _timestep) for size in [(1, 3, 32, 32), (1, 3, 30, 30), (1, 3, 33, 33), (1, 3, 28, 36), (1, 3, 31, 32)]),
    *(("AutoencoderKL", _vae, size, None) for size in [(1, 3, 32, 32), (1, 3, 31, 31), (1, 3, 33, 30), (1, 3, 17, 18)]),
    *(("VQModel", _vq, size, None) for size in [(1, 3, 32, 32), (1, 3, 31, 31), (1, 3, 34, 34)]),
    *(("UNet2DConditionModel", _cond_unet, size, _text) for size in [(1, 4, 16, 16), (1, 4, 15, 15), (1, 4, 17, 16)]),
]


def _eager(model: torch.nn.Module, x: torch.Tensor, extra: dict[str, Any]) -> tuple[bool, str]:
    try:
        with torch.no_grad():
            out = model(x, **extra)
    except Exception as exc:
        return False, f"raises {type(exc).__name__}: {exc}"
    sample = out.sample if hasattr(out, "sample") else out[0] if isinstance(out, tuple) else out
    return tuple(sample.shape[2:]) == tuple(x.shape[2:]), f"gives {tuple(sample.shape)}"


@pytest.mark.parametrize(("name", "build", "size", "extra"), CASES, ids=[f"{c[0]}-{'x'.join(map(str, c[2][2:]))}" for c in CASES])
def test_agrees_with_eager(name, build, size, extra):
    torch.manual_seed(0)
    model = build().eval()
    x = torch.randn(size)
    kwargs = extra(size[0]) if extra else {}
    works, what = _eager(model, x, kwargs)
    report = check(model, example_inputs={"sample": x, **kwargs}) if kwargs else check(model, input_size=size)
    errors = [f for f in report.findings if f.severity == "error"]
    if works:
        assert not errors, f"{name} at {size}: eager runs and restores the size, the linter reports:\n{report}"
    else:
        assert errors, f"{name} at {size}: eager {what}, the linter reports no error:\n{report}"
        assert all(f.layer or f.up for f in errors), report
    for f in report.findings:
        assert f.fix is None or f.fix.verified
