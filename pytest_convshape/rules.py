"""The rule registry: one record per finding code, the one source of everything said about a rule.

``convshape rule CS101``, ``--list-rules``, README's rule table, ``docs/rules/CSxxx.md`` and
SARIF's ``help``/``fullDescription`` are all printed from these records (``rule_docs``). Each
``example`` is a runnable snippet that produces its rule's finding (the docs test runs it).

Pure data: no torch, no imports of the rest of the package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SEVERITY_ORDER = ("error", "warning", "info")


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str
    summary: str
    """One sentence: the finding in short (SARIF shortDescription, the rule tables)."""
    what: str
    """What the linter checks."""
    why: str
    """Why it matters: what goes wrong in eager torch or in training."""
    example: str
    """A minimal runnable snippet that produces the finding (``report = check(...)`` at the end)."""
    fix: str
    """What to change."""

    @property
    def help(self) -> str:
        """The fix, as one text (kept for callers that read ``rule.help``)."""
        return self.fix

    @property
    def description(self) -> str:
        """What it does and why it matters (SARIF fullDescription)."""
        return f"{self.what} {self.why}"


def _rules(*rules: Rule) -> dict[str, Rule]:
    out = {}
    for rule in rules:
        assert rule.severity in SEVERITY_ORDER and rule.code not in out, rule.code
        out[rule.code] = rule
    return out


def _example(body: str) -> str:
    """``body`` with the imports it uses: a complete script."""
    imports = [
        line
        for line, used in (
            ("import torch", re.search(r"\btorch\.(?!nn)", body)),
            ("import torch.nn.functional as F", "F." in body),
            ("from torch import nn", "nn." in body),
        )
        if used
    ]
    return "\n".join(imports) + "\n\nfrom pytest_convshape import check\n\n\n" + body

RULES: dict[str, Rule] = _rules(
    Rule(
        code="CS101",
        name="shape-not-restored",
        severity="error",
        summary="An upsampling layer does not give back the size its downsampling partner took; "
        "a legal output_padding fixes it.",
        what="Pairs each transposed convolution with the downsampling layer it should invert (named in "
        "`pairs`, found from a skip connection, or by mirror order) and compares the size it gives back "
        "with the size its partner took in.",
        why="A strided convolution maps several input sizes to one output size (with stride 2, both 27 and "
        "28 become 12), so the transposed convolution cannot know which one to restore and gives the "
        "smallest. A U-Net then fails at `torch.cat` with \"Sizes of tensors must match\", and an "
        "autoencoder's reconstruction comes back a pixel short.",
        example=_example(
        "model = nn.Sequential(\n"
        "    nn.Conv2d(1, 1, kernel_size=5, stride=2),           # 28x28 -> 12x12\n"
        "    nn.ConvTranspose2d(1, 1, kernel_size=5, stride=2),  # 12x12 -> 27x27\n"
        ")\n"
        "report = check(model, input_size=(1, 1, 28, 28))  # CS101: set output_padding=1 on layer 1\n"),
        fix="Set the `output_padding` the finding names on the transposed convolution (it was proven by "
        "re-tracing the model with it). If the model must take several input sizes, pass "
        "`output_size=skip.shape[-2:]` to the layer in `forward` instead; `--sizes` tells which sizes "
        "each choice serves.",
    ),
    Rule(
        code="CS102",
        name="shape-not-restored-no-output-padding",
        severity="error",
        summary="A transposed convolution does not give back the size its downsampling partner took, "
        "and no legal output_padding can.",
        what="Like CS101, for a transposed convolution whose size gap is negative or larger than any "
        "legal `output_padding` (which must stay below `max(stride, dilation)`).",
        why="No value of `output_padding` restores the size: the padding or kernel of the pair does not "
        "mirror, and the layer gives back too little or too much whatever you set.",
        example=_example(
        "model = nn.Sequential(\n"
        "    nn.Conv2d(1, 1, kernel_size=3, stride=2),             # 28x28 -> 13x13\n"
        "    nn.ConvTranspose2d(1, 1, kernel_size=3, stride=2, padding=2),  # 13x13 -> 23x23\n"
        ")\n"
        "report = check(model, input_size=(1, 1, 28, 28))  # CS102\n"),
        fix="Make the pair mirror (the same kernel_size, stride, padding and dilation on both layers), "
        "pass `output_size=` in `forward`, or restrict the input sizes to those the finding lists.",
    ),
    Rule(
        code="CS103",
        name="resize-not-restored",
        severity="error",
        summary="An Upsample/interpolate, PixelShuffle or MaxUnpool layer does not give back the size "
        "its downsampling partner took.",
        what="Compares an `Upsample`/`F.interpolate` with `scale_factor`, a `PixelShuffle` or a "
        "`MaxUnpool` with its downsampling partner.",
        why="Pooling floors odd sizes (27 -> 13) and scaling by 2 gives 26, not 27: the skip merge fails, "
        "or the output is smaller than the input.",
        example=_example(
        "model = nn.Sequential(nn.MaxPool2d(2), nn.Upsample(scale_factor=2))  # 27x27 -> 13x13 -> 26x26\n"
        "report = check(model, input_size=(1, 1, 27, 27))  # CS103\n"),
        fix="Resize to the partner's input size explicitly (`F.interpolate(x, size=skip.shape[-2:])`, "
        "`MaxUnpool(..., output_size=skip.shape)`), or restrict the input sizes to those the finding lists.",
    ),
    Rule(
        code="CS201",
        name="illegal-output-padding",
        severity="error",
        summary="output_padding must be smaller than max(stride, dilation); eager PyTorch raises, "
        "the meta device and fake tensors silently accept it.",
        what="Checks every transposed convolution's `output_padding` against eager PyTorch's rule "
        "`0 <= output_padding < max(stride, dilation)`.",
        why="The meta device, FakeTensorMode and torch.export accept an illegal `output_padding` that an "
        "eager run rejects (pytorch issue 178125), so a shape check on meta alone passes a model that "
        "crashes on its first real batch.",
        example=_example(
        "model = nn.Sequential(\n"
        "    nn.Conv2d(1, 1, kernel_size=3, stride=2, padding=1),\n"
        "    nn.ConvTranspose2d(1, 1, kernel_size=3, stride=2, padding=1, output_padding=2),  # 2 >= stride\n"
        ")\n"
        "report = check(model, input_size=(1, 1, 28, 28))  # CS201\n"),
        fix="Lower `output_padding` into the legal range; the finding gives the value that restores the "
        "partner's size.",
    ),
    Rule(
        code="CS202",
        name="groups-do-not-divide-channels",
        severity="error",
        summary="groups must divide both in_channels and out_channels; eager PyTorch raises, "
        "the meta device and fake tensors accept some of these layers.",
        what="Checks that `groups` divides the channels of every convolution and transposed "
        "convolution, module or functional.",
        why="Eager PyTorch raises for these layers; the meta device accepts some of them, so a check on "
        "meta alone would pass the model.",
        example=_example(
        "class Model(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.down = nn.Conv2d(2, 2, kernel_size=4, stride=2, padding=1)\n"
        "        self.weight = nn.Parameter(torch.zeros(3, 1, 4, 4))  # 3 input channels, groups=2\n"
        "\n"
        "    def forward(self, x):\n"
        "        return F.conv_transpose2d(self.down(x), self.weight, stride=2, padding=1, groups=2)\n"
        "\n"
        "\n"
        "report = check(Model(), input_size=(1, 2, 28, 28))  # CS202\n"),
        fix="Choose `groups` that divides both `in_channels` and `out_channels`, or build the weight with "
        "the channel counts the groups need.",
    ),
    Rule(
        code="CS203",
        name="illegal-layer-parameter",
        severity="error",
        summary="A negative padding or output_padding, a stride, dilation or kernel size below 1, or a "
        "bias of the wrong size; eager PyTorch raises, the meta device accepts it.",
        what="Checks the parameters of every convolution, transposed convolution and pooling layer "
        "against what eager PyTorch accepts.",
        why="These settings crash the first real forward, but the meta device accepts them, so they "
        "survive any check that only traces shapes.",
        example=_example(
        "model = nn.Sequential(\n"
        "    nn.Conv2d(1, 1, kernel_size=4, stride=2, padding=1),\n"
        "    nn.ConvTranspose2d(1, 1, kernel_size=4, stride=2, padding=1),\n"
        ")\n"
        "model[1].padding = (-1, -1)  # set after construction, e.g. by a config loader\n"
        "report = check(model, input_size=(1, 1, 28, 28))  # CS203\n"),
        fix="Use the allowed values named in the message.",
    ),
    Rule(
        code="CS204",
        name="empty-output",
        severity="error",
        summary="A layer's output has a spatial size of 0 or less; eager PyTorch raises (the meta device "
        "returns an empty shape).",
        what="Reports a layer whose output has a spatial size of 0 or less at the given input.",
        why="Eager PyTorch raises for it; on the meta device the shape just becomes empty, and every later "
        "size is wrong.",
        example=_example(
        "model = nn.ConvTranspose2d(1, 1, kernel_size=1, padding=(0, 1))  # width 2 - 2*1 = 0\n"
        "report = check(model, input_size=(1, 1, 5, 2))  # CS204\n"),
        fix="Use a larger input, or less padding or a smaller kernel in that layer.",
    ),
    Rule(
        code="CS205",
        name="channel-mismatch",
        severity="error",
        summary="A transposed convolution gets a different number of input channels than its weight "
        "expects; eager PyTorch raises, the meta device accepts it.",
        what="Compares the channels a transposed convolution receives with its weight's `in_channels`.",
        why="Eager PyTorch raises; the meta device accepts the call and the trace goes on with a wrong "
        "channel count.",
        example=_example(
        "model = nn.Sequential(\n"
        "    nn.Conv2d(1, 8, kernel_size=4, stride=2, padding=1),           # gives 8 channels\n"
        "    nn.ConvTranspose2d(4, 1, kernel_size=4, stride=2, padding=1),  # expects 4\n"
        ")\n"
        "report = check(model, input_size=(1, 1, 28, 28))  # CS205\n"),
        fix="Make `in_channels` match the channels of the tensor the layer receives.",
    ),
    Rule(
        code="CS206",
        name="size-changed-after-upsampling",
        severity="error",
        summary="A layer changes a size that no paired upsampling layer explains (a pad, crop, resize or "
        "stride-1 ConvTranspose after an upsampler that restored its partner's size, or a branch of "
        "another size), and a torch.cat/add/stack raises or the output misses the input's size.",
        what="Reports a layer that changes a spatial size after the upsampling layers have restored it (a "
        "pad, a crop, a resize, a stride-1 transposed convolution, or a branch of another size), when a "
        "`torch.cat`, `torch.stack` or addition raises because of it or the model's output misses the "
        "input's size, and names that layer.",
        why="Eager PyTorch raises \"Sizes of tensors must match\" at the merge, or the output comes back the "
        "wrong size; the layer to change is often far from where it fails, and no upsampling layer is at fault.",
        example=_example(
        "class Model(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.down = nn.Conv2d(1, 1, kernel_size=4, stride=2, padding=1)\n"
        "        self.up = nn.ConvTranspose2d(1, 1, kernel_size=4, stride=2, padding=1)\n"
        "\n"
        "    def forward(self, x):\n"
        "        y = F.pad(self.up(self.down(x)), (0, 1, 0, 1))  # 28x28 -> 29x29 after a correct up\n"
        "        return torch.cat([x, y], dim=1)\n"
        "\n"
        "\n"
        "report = check(Model(), input_size=(1, 1, 28, 28))  # CS206\n"),
        fix="Make the layer named in the message keep the size (the message says how), or pad/crop both "
        "branches alike.",
    ),
    Rule(
        code="CS301",
        name="mismatch-hidden-by-crop",
        severity="warning",
        summary="A size mismatch between an upsampling layer and its partner is hidden by cropping.",
        what="Reports a pair whose size mismatch is cut away before the merge (`y[..., :h, :w]`).",
        why="The model runs, but the crop throws away the rows the layer computed at the border, and it "
        "hides which sizes the model really supports.",
        example=_example(
        "class Model(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.down = nn.Conv2d(1, 1, kernel_size=3, stride=2, padding=1)\n"
        "        self.up = nn.ConvTranspose2d(1, 1, kernel_size=3, stride=2, padding=1, output_padding=1)\n"
        "\n"
        "    def forward(self, x):\n"
        "        y = self.up(self.down(x))  # 27x27 -> 14x14 -> 28x28\n"
        "        return torch.cat([x, y[..., : x.shape[-2], : x.shape[-1]]], dim=1)\n"
        "\n"
        "\n"
        "report = check(Model(), input_size=(1, 1, 27, 27))  # CS301\n"),
        fix="Fix the layer as the finding says so that no crop is needed, or silence the finding with "
        "`# convshape: ignore[CS301]` where the crop is intended.",
    ),
    Rule(
        code="CS302",
        name="mismatch-hidden-by-pad",
        severity="warning",
        summary="A size mismatch between an upsampling layer and its partner is hidden by padding.",
        what="Reports a pair whose size mismatch is padded away (`F.pad`) before the merge.",
        why="The model runs, but the padded border is made-up data that the next layers learn from.",
        example=_example(
        "class Model(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.down = nn.Conv2d(1, 1, kernel_size=5, stride=2)\n"
        "        self.up = nn.ConvTranspose2d(1, 1, kernel_size=5, stride=2)\n"
        "\n"
        "    def forward(self, x):\n"
        "        y = self.up(self.down(x))  # 28x28 -> 12x12 -> 27x27\n"
        "        y = F.pad(y, (0, x.shape[-1] - y.shape[-1], 0, x.shape[-2] - y.shape[-2]))\n"
        "        return torch.cat([x, y], dim=1)\n"
        "\n"
        "\n"
        "report = check(Model(), input_size=(1, 1, 28, 28))  # CS302\n"),
        fix="Fix the layer as the finding says so that no pad is needed, or silence the finding with "
        "`# convshape: ignore[CS302]` where the pad is intended.",
    ),
    Rule(
        code="CS303",
        name="mismatch-hidden-by-interpolate",
        severity="warning",
        summary="A size mismatch between an upsampling layer and its partner is hidden by resizing.",
        what="Reports a pair whose size mismatch is resized away (`F.interpolate(size=...)`) before the merge.",
        why="The model runs, but the resize shifts every pixel by a fraction, so the skip connection no "
        "longer lines up with what the decoder computed.",
        example=_example(
        "class Model(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.down = nn.Conv2d(1, 1, kernel_size=5, stride=2)\n"
        "        self.up = nn.ConvTranspose2d(1, 1, kernel_size=5, stride=2)\n"
        "\n"
        "    def forward(self, x):\n"
        "        y = F.interpolate(self.up(self.down(x)), size=x.shape[-2:])  # 27x27 resized to 28x28\n"
        "        return torch.cat([x, y], dim=1)\n"
        "\n"
        "\n"
        "report = check(Model(), input_size=(1, 1, 28, 28))  # CS303\n"),
        fix="Fix the layer as the finding says so that no resize is needed, or silence the finding with "
        "`# convshape: ignore[CS303]` where the resize is intended.",
    ),
    Rule(
        code="CS901",
        name="unpaired-upsampler",
        severity="info",
        summary="An upsampling layer has no downsampling partner to compare with.",
        what="Reports an upsampling layer that no downsampling layer pairs with, and shows its arithmetic.",
        why="Nothing to compare it with, so nothing is checked; the arithmetic answers the common question "
        "why `padding` shrinks a transposed convolution's output.",
        example=_example(
        "model = nn.ConvTranspose2d(1, 1, kernel_size=2, stride=2, padding=1)  # 2x2 -> 2x2, not 4x4\n"
        "report = check(model, input_size=(1, 1, 2, 2))  # CS901\n"),
        fix="Nothing to do; name the pair in `pairs` (`--pair DOWN=UP`) if the layer should mirror one.",
    ),
    Rule(
        code="CS902",
        name="fallback-real-pass",
        severity="warning",
        summary="The model could not run on the meta device; one small real CPU pass was used instead.",
        what="Reports that the forward could not run on the meta device (a value-dependent `if`, "
        "`.item()`, an op without a meta kernel) and that one small real CPU pass under `no_grad` in "
        "eval mode was used instead.",
        why="The real pass costs memory and time, and a value-dependent branch means only the branch this "
        "input took was checked.",
        example=_example(
        "class Model(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.down = nn.Conv2d(1, 1, kernel_size=4, stride=2, padding=1)\n"
        "        self.up = nn.ConvTranspose2d(1, 1, kernel_size=4, stride=2, padding=1)\n"
        "\n"
        "    def forward(self, x):\n"
        "        if x.sum() > 0:  # depends on the values: cannot run on the meta device\n"
        "            x = x * 2\n"
        "        return self.up(self.down(x))\n"
        "\n"
        "\n"
        "report = check(Model(), input_size=(1, 1, 28, 28))  # CS902\n"),
        fix="Nothing to do; make the forward depend on shapes only (no `.item()`, no `if` on values) to "
        "lint without running the model.",
    ),
    Rule(
        code="CS903",
        name="forward-failed",
        severity="error",
        summary="The forward pass raised an error that is not a resampling mismatch; "
        "layers after the failure were not checked.",
        what="Reports a forward pass that raised for a reason other than a resampling mismatch, with the "
        "layer that raised and the layers that ran before it.",
        why="Eager PyTorch raises the same error; the layers after it were not checked.",
        example=_example(
        "model = nn.Sequential(\n"
        "    nn.Conv2d(1, 1, kernel_size=4, stride=2, padding=1),  # 28x28 -> 14x14\n"
        "    nn.Flatten(),\n"
        "    nn.Linear(100, 10),  # expects 100 features, gets 196\n"
        ")\n"
        "report = check(model, input_size=(1, 1, 28, 28))  # CS903\n"),
        fix="Fix the error shown; the finding lists the layers that ran before it.",
    ),
    Rule(
        code="CS904",
        name="adaptive-pool-before-upsampling",
        severity="info",
        summary="Adaptive pooling gives a fixed size whatever it gets, and an upsampling layer comes after "
        "it; the linter does not pair across it.",
        what="Reports adaptive pooling on the way to an upsampling layer; mirror pairing stops there.",
        why="Adaptive pooling gives the same size for every input, so no layer after it can restore a size "
        "from before it by arithmetic alone.",
        example=_example(
        "model = nn.Sequential(\n"
        "    nn.Conv2d(1, 1, kernel_size=4, stride=2, padding=1),\n"
        "    nn.AdaptiveAvgPool2d(7),\n"
        "    nn.ConvTranspose2d(1, 1, kernel_size=4, stride=2, padding=1),\n"
        ")\n"
        "report = check(model, input_size=(1, 1, 28, 28))  # CS904\n"),
        fix="Nothing to do unless an upsampling layer should restore a size from before the pooling; then "
        "name the pair in `pairs`.",
    ),
    Rule(
        code="CS905",
        name="unconfirmed-mismatch",
        severity="info",
        summary="An upsampling layer paired by mirror order does not give back its partner's input size, "
        "but nothing shows that it matters: the model runs and restores its input size.",
        what="Reports a pair found by mirror order alone whose sizes do not round-trip while the model "
        "runs and gives back its input size (a later layer makes up for it).",
        why="Mirror order is a guess; when the model works as a whole, the mismatch is probably intended "
        "and is not an error.",
        example=_example(
        "model = nn.Sequential(\n"
        "    nn.Conv2d(1, 1, kernel_size=3, stride=2, padding=1),           # 28 -> 14\n"
        "    nn.Conv2d(1, 1, kernel_size=3, stride=2, padding=1),           # 14 -> 7\n"
        "    nn.ConvTranspose2d(1, 1, kernel_size=3, stride=2, padding=1),  # 7 -> 13, not 14\n"
        "    nn.ConvTranspose2d(1, 1, kernel_size=3, stride=2, padding=1, output_padding=1),  # 13 -> 26\n"
        "    nn.Upsample(size=(28, 28)),  # back to 28: the model restores its input size\n"
        ")\n"
        "report = check(model, input_size=(1, 1, 28, 28))  # CS905\n"),
        fix="Nothing to do if the model is meant to be built this way; name the pair in `pairs` to make a "
        "mismatch an error.",
    ),
    Rule(
        code="CS910",
        name="unused-suppression",
        severity="warning",
        summary="A `# convshape: ignore[...]` comment silences nothing.",
        what="Reports a `# convshape: ignore[...]` comment on one of the model's layers that silenced no "
        "finding for the input checked, or that names an unknown code.",
        why="A stale suppression hides the next real finding on that line, and a misspelt code silences "
        "nothing at all.",
        example=_example(
        "class Model(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.down = nn.Conv2d(1, 1, kernel_size=4, stride=2, padding=1)\n"
        "        self.up = nn.ConvTranspose2d(1, 1, kernel_size=4, stride=2, padding=1)  # convshape: ignore[CS101]\n"
        "\n"
        "    def forward(self, x):\n"
        "        return self.up(self.down(x))  # 28 -> 14 -> 28: nothing to silence\n"
        "\n"
        "\n"
        "report = check(Model(), input_size=(1, 1, 28, 28))  # CS910\n"),
        fix="Remove the comment, or the codes the finding names from it.",
    ),
)

NAMES: dict[str, str] = {rule.name: rule.code for rule in RULES.values()}
"""Rule name -> code (``shape-not-restored`` -> ``CS101``)."""
