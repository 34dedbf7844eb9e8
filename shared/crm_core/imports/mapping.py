"""Which column feeds which field: guessed from the header (Chinese or English), adjustable.

Each entity has a table of header aliases. A header is compared after folding case, width and
punctuation (``客户名称``, ``Customer Name``, ``customer_name`` and ``E-mail`` all fold). The caller
may override any guess with ``{"<header>": "<field>"}`` (a field in snake_case or camelCase;
an empty field ignores the column).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from crm_core.errors import DomainError, ErrorCode, FieldError
from crm_core.imports.models import ImportEntity

_FOLD = re.compile(r"[\s_\-*:：()（）/\\.、·#]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")
LIST_SEPARATORS = re.compile(r"[,，;；、|]")

CUSTOMER: dict[str, tuple[str, ...]] = {
    "code": ("客户编号", "客户编码", "客户代码", "编号", "编码", "code", "customer code",
             "customer no", "customer number", "客户号"),
    "name": ("客户名称", "公司名称", "客户名", "名称", "企业名称", "单位名称", "公司", "客户",
             "name", "customer name", "company", "company name", "customer"),
    "kind": ("客户类型", "类型", "类别", "kind", "type", "customer type"),
    "industry": ("行业", "所属行业", "行业类别", "industry"),
    "grade": ("客户等级", "等级", "级别", "客户级别", "grade", "level"),
    "tags": ("标签", "tags", "tag"),
    "lifecycle_stage": ("生命周期", "生命周期阶段", "客户阶段", "阶段", "lifecycle stage", "stage"),
    "source": ("客户来源", "来源", "source"),
    "phone": ("手机", "手机号", "手机号码", "电话", "联系电话", "电话号码", "座机", "联系方式",
              "phone", "mobile", "tel", "telephone", "phone number", "mobile phone"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "邮件", "email", "e-mail", "mail", "email address"),
    "website": ("网站", "网址", "官网", "主页", "website", "url", "web"),
    "address_line": ("地址", "详细地址", "公司地址", "通讯地址", "address", "address line"),
    "country": ("国家", "国家地区", "country"),
    "province": ("省", "省份", "省/直辖市", "所在省份", "province", "state"),
    "city": ("市", "城市", "所在城市", "city"),
    "district": ("区", "区县", "区/县", "district", "county"),
    "street": ("街道", "街道地址", "street"),
    "postal_code": ("邮编", "邮政编码", "postal code", "zip", "zip code", "postcode"),
    "credit_rating": ("信用等级", "信用评级", "credit rating", "credit"),
    "payment_habit": ("付款习惯", "payment habit"),
    "preferred_products": ("偏好产品", "常购产品", "preferred products"),
    "purchase_frequency": ("购买频率", "采购频率", "purchase frequency"),
    "preferred_service_mode": ("服务方式", "偏好服务方式", "preferred service mode"),
    "gender": ("性别", "gender", "sex"),
    "birth_date": ("出生日期", "生日", "birth date", "birthday", "date of birth"),
    "area_type": ("城乡", "区域类型", "area type"),
    "income_band": ("收入水平", "收入", "income band", "income"),
    "distance_km": ("距离", "距离(公里)", "距离公里", "distance", "distance km"),
    "notes": ("备注", "说明", "notes", "note", "remark", "remarks", "comment"),
    "tax_id": ("税号", "统一社会信用代码", "纳税人识别号", "tax id", "vat", "vat number"),
    "bank_account": ("银行账号", "银行账户", "bank account"),
}  # fmt: skip

CONTACT: dict[str, tuple[str, ...]] = {
    "customer_code": ("客户编号", "客户编码", "客户代码", "customer code", "customer no",
                      "customer"),
    "name": ("联系人", "联系人姓名", "姓名", "名字", "name", "contact", "contact name"),
    "title": ("职位", "职务", "title", "job title", "position"),
    "department": ("部门", "department", "dept"),
    "phone": ("手机", "手机号", "手机号码", "电话", "联系电话", "phone", "mobile", "tel",
              "telephone", "phone number"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "email", "e-mail", "mail"),
    "is_primary": ("主要联系人", "首要联系人", "primary", "is primary"),
    "preferred_channel": ("偏好渠道", "联系渠道", "preferred channel", "channel"),
    "preferred_time": ("方便联系时间", "联系时间", "preferred time"),
    "birthday": ("生日", "出生日期", "birthday", "birth date"),
    "notes": ("备注", "说明", "notes", "remark", "remarks"),
}  # fmt: skip

LEAD: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "联系人", "线索名称", "name", "contact", "contact name"),
    "company_name": ("公司名称", "公司", "企业名称", "单位", "company", "company name"),
    "title": ("职位", "职务", "title", "job title"),
    "phone": ("手机", "手机号", "手机号码", "电话", "联系电话", "phone", "mobile", "tel",
              "telephone"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "email", "e-mail", "mail"),
    "source": ("来源", "线索来源", "source"),
    "interests": ("意向", "意向产品", "兴趣", "interests", "interest"),
    "score": ("评分", "分数", "score"),
    "province": ("省", "省份", "province"),
    "city": ("市", "城市", "city"),
    "notes": ("备注", "说明", "notes", "remark", "remarks"),
}  # fmt: skip

PRODUCT: dict[str, tuple[str, ...]] = {
    "code": ("产品编号", "产品编码", "产品代码", "编号", "编码", "货号", "sku", "code",
             "product code"),
    "name": ("产品名称", "名称", "品名", "name", "product name", "product"),
    "category": ("类别", "分类", "产品类别", "category"),
    "unit": ("单位", "unit"),
    "unit_price": ("单价", "价格", "售价", "unit price", "price"),
    "cost": ("成本", "成本价", "cost"),
    "currency": ("币种", "货币", "currency"),
    "active": ("在售", "启用", "状态", "active"),
    "description": ("描述", "说明", "产品描述", "description"),
}  # fmt: skip

ORDER: dict[str, tuple[str, ...]] = {
    "number": ("订单号", "订单编号", "单号", "order number", "order no", "number", "order"),
    "customer_code": ("客户编号", "客户编码", "客户代码", "customer code", "customer"),
    "ordered_on": ("下单日期", "订单日期", "日期", "ordered on", "order date", "date"),
    "currency": ("币种", "货币", "currency"),
    "notes": ("备注", "说明", "notes", "remark"),
    "product_code": ("产品编号", "产品编码", "产品代码", "货号", "sku", "product code",
                     "product"),
    "quantity": ("数量", "quantity", "qty"),
    "unit_price": ("单价", "价格", "unit price", "price"),
    "discount": ("折扣", "优惠", "discount"),
}  # fmt: skip

ALIASES: dict[ImportEntity, dict[str, tuple[str, ...]]] = {
    ImportEntity.customer: CUSTOMER,
    ImportEntity.contact: CONTACT,
    ImportEntity.lead: LEAD,
    ImportEntity.product: PRODUCT,
    ImportEntity.order: ORDER,
}


def fold(header: str) -> str:
    return _FOLD.sub("", unicodedata.normalize("NFKC", header).casefold())


def snake(name: str) -> str:
    return _CAMEL.sub(r"_\1", name.strip()).lower()


def fields_of(entity: ImportEntity) -> tuple[str, ...]:
    return tuple(ALIASES[entity])


def _index(entity: ImportEntity) -> dict[str, str]:
    index: dict[str, str] = {}
    for field, aliases in ALIASES[entity].items():
        for alias in (field, *aliases):
            index.setdefault(fold(alias), field)
    return index


def guess(entity: ImportEntity, headers: Sequence[str]) -> dict[str, str]:
    """``{header: field}`` for the headers recognised; each field fed by one column at most
    (the first that names it)."""
    index = _index(entity)
    out: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        field = index.get(fold(header))
        if field is not None and field not in taken and header not in out:
            out[header] = field
            taken.add(field)
    return out


def resolve(
    entity: ImportEntity, headers: Sequence[str], given: Mapping[str, Any] | None
) -> dict[str, str]:
    """The mapping to use: the guess, with the caller's choices on top, checked."""
    mapping = guess(entity, headers)
    errors: list[FieldError] = []
    known = set(fields_of(entity))
    for header, field in (given or {}).items():
        if header not in headers:
            errors.append(
                FieldError(f"mapping.{header}", ErrorCode.NOT_FOUND, "no such column in the file")
            )
            continue
        if not field:
            mapping.pop(header, None)
            continue
        name = snake(str(field))
        if name not in known:
            errors.append(
                FieldError(f"mapping.{header}", ErrorCode.INVALID, f"no field {field} to import")
            )
            continue
        for other, f in list(mapping.items()):
            if f == name and other != header:
                del mapping[other]  # the caller's choice wins over a guess
        mapping[header] = name
    if errors:
        raise DomainError(errors)
    return mapping


def columns_of(headers: Sequence[str], mapping: Mapping[str, str]) -> dict[str, tuple[int, str]]:
    """``{field: (column index, header)}``."""
    out: dict[str, tuple[int, str]] = {}
    for i, header in enumerate(headers):
        field = mapping.get(header)
        if field is not None and field not in out:
            out[field] = (i, header)
    return out


def values_of(cells: Sequence[str], columns: Mapping[str, tuple[int, str]]) -> dict[str, str]:
    """The row's non-empty values by field."""
    out: dict[str, str] = {}
    for field, (i, _) in columns.items():
        if i < len(cells):
            value = cells[i].strip()
            if value:
                out[field] = value
    return out
