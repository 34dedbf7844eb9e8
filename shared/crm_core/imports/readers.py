"""Reading an uploaded table row by row: CSV (UTF-8 with or without BOM, or GB18030 as Chinese
Excel writes it; comma, semicolon or tab) and Excel ``.xlsx`` (openpyxl in read-only mode, so a
large sheet is streamed, never loaded whole). Every cell comes out as text."""

from __future__ import annotations

import codecs
import csv
import datetime
from collections.abc import Iterator
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

from crm_core.errors import DomainError, ErrorCode

XLSX_MAGIC = b"PK\x03\x04"
MAX_COLUMNS = 200
MAX_CELL = 10_000
SNIFF_BYTES = 64 * 1024
csv.field_size_limit(1 << 20)


def kind_of(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(4)
    return "xlsx" if head == XLSX_MAGIC else "csv"


def _encoding(sample: bytes) -> str:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)  # a character cut at the end of the sample is fine
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    first = text.splitlines()[0] if text else ""
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter
    return Dialect


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _bounded(cells: list[str]) -> list[str]:
    return [c[:MAX_CELL] for c in cells[:MAX_COLUMNS]]


def iter_csv(path: Path) -> Iterator[list[str]]:
    with open(path, "rb") as raw:
        sample = raw.read(SNIFF_BYTES)
    encoding = _encoding(sample)
    preview = sample.decode(encoding, errors="ignore")
    dialect = _dialect(preview)
    with open(path, encoding=encoding, errors="replace", newline="") as f:
        for row in csv.reader(f, dialect):
            yield _bounded(row)


def iter_xlsx(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    # A file object: openpyxl judges a path by its extension, and ours have none.
    with open(path, "rb") as handle:
        try:
            book = load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # a damaged or foreign file: the user's problem, said plainly
            raise DomainError.one("file", ErrorCode.INVALID, "not a readable .xlsx file") from exc
        try:
            sheet = book.worksheets[0]
            for values in sheet.iter_rows(values_only=True):
                yield _bounded([_cell(v) for v in values])
        finally:
            book.close()


def iter_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """``(row number, cells)`` of every non-empty row, the header first; row numbers as a
    spreadsheet shows them (from 1), trailing empty cells dropped."""
    rows = iter_xlsx(path) if kind_of(path) == "xlsx" else iter_csv(path)
    for number, row in enumerate(rows, start=1):
        while row and not row[-1].strip():
            row.pop()
        if row:
            yield number, row


def read_header(path: Path) -> list[str]:
    for _, row in iter_rows(path):
        return [c.strip() for c in row]
    raise DomainError.one("file", ErrorCode.INVALID, "the file has no header row")


def data_rows(path: Path, limit: int | None = None) -> Iterator[tuple[int, list[str]]]:
    """The rows after the header."""
    rows = iter_rows(path)
    next(rows, None)
    yield from (islice(rows, limit) if limit is not None else rows)
