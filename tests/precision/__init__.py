"""The precision suite's architectures: hand-written, non-mirror encoder/decoder models.

One module per architecture family; tests/test_precision.py runs each against the eager-torch
oracle in _oracle.py with the judgements in _judge.py (tests/test_precision_packages.py applies
the same judgements to MONAI's models when MONAI is installed). Module contract:

* a docstring naming the real architecture it stands for;
* ``build() -> nn.Module`` (deterministic: the suite seeds torch before calling it);
* ``KIND``: ``"restoring"`` (meant to give back the input's spatial size) or ``"fraction"``
  (output at a fraction of the input by design);
* ``CASES``: one dict per input size: ``input`` (N, C, ...), ``works`` (what eager torch does),
  and for failing cases ``culprits`` (layer names; an error finding whose ``layer`` or ``up``
  is one of them names the culprit) and ``fix``: ``"verified"`` (an output_padding of the
  culprit transposed convs makes eager work; the linter must report a verified fix),
  ``"none"`` (no output_padding of the culprits does; the culprit findings have fix None), or
  ``"any"`` (a fix is optional; one that is reported must work in eager);
* optional ``PAIRS`` (passed to ``check(..., pairs=...)``), ``apply_fix(model, layer, op)`` and
  ``FUNCTIONAL_LIMITS`` ({functional layer name: (ndim, max(stride, dilation))}) for fixes on
  functional transposed convs.
"""
