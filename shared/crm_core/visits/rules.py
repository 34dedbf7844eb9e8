"""Pure rules of visits: the customer's "do not visit" windows and dates in the company's zone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

_DAYS = ("", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _covers(window: Mapping[str, Any], local: datetime) -> bool:
    """``{"weekday": 1..7 | None, "start": "HH:MM", "end": "HH:MM"}``, read in the company's
    zone. The end is exclusive; a window whose end is before its start runs past midnight into
    the next day; start == end covers the whole day."""
    start, end = str(window["start"]), str(window["end"])
    weekday = window.get("weekday")
    hhmm = local.strftime("%H:%M")
    today = local.isoweekday()

    def on(day: int) -> bool:
        return weekday is None or int(weekday) == day

    if start == end:
        return on(today)
    if start < end:
        return on(today) and start <= hhmm < end
    yesterday = 7 if today == 1 else today - 1
    return (on(today) and hhmm >= start) or (on(yesterday) and hhmm < end)


def blocking_window(
    windows: Sequence[Mapping[str, Any]], at: datetime, zone: str
) -> Mapping[str, Any] | None:
    """The first "do not visit" window that ``at`` falls inside, if any."""
    local = at.astimezone(ZoneInfo(zone))
    for window in windows:
        if _covers(window, local):
            return window
    return None


def describe(window: Mapping[str, Any]) -> str:
    day = window.get("weekday")
    when = f"{_DAYS[int(day)]} " if day else "daily "
    note = f" ({window['note']})" if window.get("note") else ""
    return f"{when}{window['start']}–{window['end']}{note}"


def local_date(at: datetime, zone: str) -> date:
    """The day a timestamp falls on for the company (11 pm in Shanghai is tomorrow in UTC)."""
    return at.astimezone(ZoneInfo(zone)).date()
