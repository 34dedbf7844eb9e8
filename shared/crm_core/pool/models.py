"""The shared pool's vocabulary. The pool itself is the customers with no owner
(``customers.owner_id IS NULL``); the columns saying how they got there live on the customers
table (``pool_entered_at``, ``pool_reason``, ``previous_owner_id``, ``claimed_at``)."""

from __future__ import annotations

import enum


class PoolReason(enum.StrEnum):
    released = "released"  # the owner or a manager put it back
    reclaimed = "reclaimed"  # no activity for the company's reclaim period
    unassigned = "unassigned"  # a manager took it from a rep (e.g. who left) without a new owner
