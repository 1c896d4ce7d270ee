"""``python -m olive_core`` is the ``olive`` command."""

from olive_core.cli.main import main

main()
