"""``python -m crm_worker``: run one worker process (settings from the ``CRM_`` environment)."""

from crm_worker.main import run

raise SystemExit(run())
