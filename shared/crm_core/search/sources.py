"""What global search looks in: each searchable table with its visibility rules."""

from __future__ import annotations

from crm_core.contacts import repository as contacts_repo
from crm_core.contacts.models import Contact
from crm_core.customers import repository as customers_repo
from crm_core.customers.models import Customer
from crm_core.leads import repository as leads_repo
from crm_core.leads.models import Lead
from crm_core.search.engine import Source

CUSTOMERS = Source(
    kind="customer",
    model=Customer,
    title=Customer.name,
    text=Customer.search_text,
    public=Customer.search_public,
    visible=customers_repo.visible,
    live=customers_repo.live,
)
CONTACTS = Source(
    kind="contact",
    model=Contact,
    title=Contact.name,
    text=Contact.search_text,
    public=Contact.search_public,
    visible=contacts_repo.visible,
    live=contacts_repo.live,
)
LEADS = Source(
    kind="lead",
    model=Lead,
    title=Lead.name,
    text=Lead.search_text,
    public=Lead.search_public,
    visible=leads_repo.visible,
    live=leads_repo.live,
)
SOURCES = {s.kind: s for s in (CUSTOMERS, CONTACTS, LEADS)}
