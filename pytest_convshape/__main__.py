"""``python -m pytest_convshape``: the same as the ``convshape`` command."""

from .cli import main

main()
