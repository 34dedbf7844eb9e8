"""``python -m crm_core`` is the ``crm`` command."""

from crm_core.cli.main import main

main()
