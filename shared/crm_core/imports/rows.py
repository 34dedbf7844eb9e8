"""What merging a chunk of rows needs and returns, and the conversions every entity shares."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.errors import ErrorCode, FieldError
from crm_core.identity.principal import Principal
from crm_core.imports.mapping import LIST_SEPARATORS
from crm_core.security.tenant_keys import TenantCipher

CREATED, UPDATED, FAILED = "created", "updated", "failed"
_TRUE = {"1", "true", "yes", "y", "是", "对", "有", "√", "t"}
_FALSE = {"0", "false", "no", "n", "否", "不", "无", "×", "f"}
# Common Chinese labels of enum values (the English values are accepted as they are).
VALUE_LABELS: dict[str, dict[str, str]] = {
    "kind": {"公司": "company", "企业": "company", "单位": "company", "个人": "individual"},
    "gender": {"男": "male", "女": "female", "其他": "other"},
    "area_type": {"城市": "urban", "城镇": "urban", "农村": "rural"},
    "source": {"转介绍": "referral", "推荐": "referral", "官网": "website", "网站": "website",
               "展会": "exhibition", "电话": "cold_call", "广告": "advertising",
               "合作伙伴": "partner", "社交媒体": "social_media", "上门": "walk_in",
               "其他": "other"},
    "lifecycle_stage": {"潜在": "lead", "新客户": "new", "复购": "repeat", "忠诚": "loyal",
                        "流失风险": "at_risk", "已流失": "churned"},
}  # fmt: skip


@dataclass
class Chunk:
    """One transaction's worth of rows of one run."""

    session: AsyncSession
    principal: Principal
    columns: Mapping[str, tuple[int, str]]  # field → (column index, header)
    default_region: str = "CN"
    cipher: TenantCipher | None = None


@dataclass
class RowResult:
    row_number: int
    values: dict[str, str]
    action: str = FAILED
    errors: list[FieldError] = field(default_factory=list)
    record_id: uuid.UUID | None = None

    def fail(self, errors: Sequence[FieldError]) -> RowResult:
        self.action, self.record_id = FAILED, None
        self.errors = list(errors)
        return self


def split_list(value: str) -> list[str]:
    return [p.strip() for p in LIST_SEPARATORS.split(value) if p.strip()]


def to_bool(value: str, name: str) -> bool | str:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    return value  # let the schema reject it, with its field name


def label(name: str, value: str) -> str:
    return VALUE_LABELS.get(name, {}).get(value.strip(), value.strip())


def plain_number(value: str) -> str:
    """``1,200.50`` / ``¥1200.5`` / ``1 200`` → ``1200.50``; anything else unchanged."""
    cleaned = re.sub(r"[\s,，¥￥$]", "", value)
    return cleaned if re.fullmatch(r"-?\d+(\.\d+)?", cleaned) else value


def base_field(name: str | None) -> str | None:
    """``phones.0.number`` → ``phones``; ``0.name`` (create_many) → ``name``."""
    if not name:
        return None
    parts = [p for p in name.split(".") if not p.isdigit()]
    return parts[0] if parts else None


def error_rows(
    results: Mapping[int, RowResult], columns: Mapping[str, tuple[int, str]]
) -> list[dict[str, Any]]:
    """The report lines of failed rows: row, column (the header), field, value, message."""
    out = []
    for result in results.values():
        for e in result.errors:
            name = base_field(e.field)
            name = {"phones": "phone", "emails": "email"}.get(name or "", name)
            header = columns[name][1] if name is not None and name in columns else None
            out.append(
                {
                    "row_number": result.row_number,
                    "column": header,
                    "field": e.field,
                    "value": result.values.get(name or "") if name else None,
                    "message": f"{e.code.value}: {e.message}",
                }
            )
    return out


def required(values: Mapping[str, str], *names: str) -> list[FieldError]:
    return [FieldError(n, ErrorCode.REQUIRED, "required") for n in names if not values.get(n)]
