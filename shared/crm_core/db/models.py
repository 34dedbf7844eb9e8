"""The one list of model modules per tree, so metadata is complete wherever it is needed."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

CORE_MODEL_MODULES = (
    "crm_core.tenants.models",
    "crm_core.identity.models",
    "crm_core.backups.models",
)
TENANT_MODEL_MODULES = (
    "crm_core.customers.models",
    "crm_core.contacts.models",
    "crm_core.interactions.models",
    "crm_core.followups.models",
    "crm_core.complaints.models",
    "crm_core.tickets.models",
    "crm_core.products.models",
    "crm_core.requirements.models",
    "crm_core.opportunities.models",
    "crm_core.contracts.models",
    "crm_core.orders.models",
    "crm_core.leads.models",
    "crm_core.tags.models",
    "crm_core.segments.models",
    "crm_core.activities.models",
    "crm_core.visits.models",
    "crm_core.lifecycle.models",
    "crm_core.evaluations.models",
    "crm_core.dedup.models",
    "crm_core.surveys.models",
    "crm_core.audit.models",
    "crm_core.jobs.models",
    "crm_core.messaging.models",
    "crm_core.mail.models",
    "crm_core.files.models",
    "crm_core.imports.models",
    "crm_core.search.models",
)


def load_core_models() -> MetaData:
    from crm_core.db.base import CoreBase

    for name in CORE_MODEL_MODULES:
        importlib.import_module(name)
    return CoreBase.metadata


def load_tenant_models() -> MetaData:
    from crm_core.db.base import TenantBase

    for name in TENANT_MODEL_MODULES:
        importlib.import_module(name)
    return TenantBase.metadata
