"""The ``Issue`` every normaliser reports for what it cannot fix automatically: a field, a code and
a message that becomes a review flag on the record (messages carry only masked phones and e-mails).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Issue:
    """Something that could not be fixed automatically; becomes a review flag."""

    field: str
    code: str
    message: str
