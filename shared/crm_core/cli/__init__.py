"""The ``crm`` command."""
