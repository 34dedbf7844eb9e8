"""A labelled benchmark set for the duplicate scan: distinct customers plus planted duplicates,
made the ways duplicates happen in a Chinese CRM, with the true pairs known.

Each planted duplicate changes its original in one to three of these ways: a typo in the name
(a character replaced, dropped or doubled), a transliteration (张伟 ↔ Zhang Wei, either order),
a company name abbreviated (北京星辰科技有限公司 → 星辰科技, or the trade word dropped),
a swapped name order (Wei Zhang), a re-formatted phone (+86 138-0013-8000, 138 0013 8000),
a phone or e-mail left out, an e-mail in capitals, and a re-formatted address (the province
left out, spaces, 号 written out). A duplicate keeps at least one of name, phone and e-mail
recognisable: a record with nothing in common with its original is not findable by anyone.

The distinct customers are drawn from small pools of surnames, given names and company words,
so many distinct people share a name (as 张伟 does in real life): precision is tested too.
Deterministic for a seed.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from crm_core.cleansing import normalize
from crm_core.dedup.keys import customer_keys

SURNAMES = [
    ("张", "Zhang"), ("王", "Wang"), ("李", "Li"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"),
    ("赵", "Zhao"), ("黄", "Huang"), ("周", "Zhou"), ("吴", "Wu"), ("徐", "Xu"), ("孙", "Sun"),
    ("胡", "Hu"), ("朱", "Zhu"), ("高", "Gao"), ("林", "Lin"), ("何", "He"), ("郭", "Guo"),
    ("马", "Ma"), ("罗", "Luo"), ("梁", "Liang"), ("宋", "Song"), ("郑", "Zheng"), ("谢", "Xie"),
]  # fmt: skip
GIVEN = [
    ("伟", "Wei"), ("芳", "Fang"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"), ("丽", "Li"),
    ("强", "Qiang"), ("磊", "Lei"), ("军", "Jun"), ("洋", "Yang"), ("勇", "Yong"), ("艳", "Yan"),
    ("杰", "Jie"), ("涛", "Tao"), ("明", "Ming"), ("超", "Chao"), ("秀英", "Xiuying"),
    ("桂英", "Guiying"), ("建华", "Jianhua"), ("志强", "Zhiqiang"), ("晓东", "Xiaodong"),
    ("海燕", "Haiyan"), ("雪梅", "Xuemei"), ("国庆", "Guoqing"), ("文博", "Wenbo"),
    ("子涵", "Zihan"), ("思远", "Siyuan"), ("浩然", "Haoran"), ("欣怡", "Xinyi"), ("宇航", "Yuhang"),
]  # fmt: skip
EN_FIRST = ["James", "Mary", "John", "Linda", "David", "Susan", "Michael", "Karen", "Peter",
            "Anna", "Thomas", "Laura", "Daniel", "Emma", "Paul", "Sarah"]  # fmt: skip
EN_LAST = ["Smith", "Miller", "Brown", "Wilson", "Taylor", "Clark", "Walker", "Young", "King",
           "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill"]  # fmt: skip
CORE_CHARS = "星辰云帆明辉华强东方金鼎瑞丰天宇恒信博远新锐宏图永泰嘉禾盛世长城海纳众合正泰汇通"
TRADES = [
    "科技",
    "贸易",
    "实业",
    "电子",
    "网络科技",
    "信息技术",
    "机械",
    "医药",
    "物流",
    "文化传媒",
]
LEGAL = ["有限公司", "有限责任公司", "股份有限公司", "集团有限公司"]
CITIES = [
    ("北京市", "北京市", "海淀区"), ("上海市", "上海市", "浦东新区"), ("广东省", "深圳市", "南山区"),
    ("浙江省", "杭州市", "西湖区"), ("江苏省", "苏州市", "工业园区"), ("四川省", "成都市", "武侯区"),
    ("湖北省", "武汉市", "洪山区"), ("广东省", "广州市", "天河区"), ("山东省", "青岛市", "市南区"),
]  # fmt: skip
STREETS = [
    "中关村大街",
    "张江路",
    "科技园路",
    "文三路",
    "星湖街",
    "天府大道",
    "光谷大道",
    "体育西路",
]
EN_COMPANIES = ["Starlight", "Bluewave", "Northwind", "Redstone", "Silverline", "Greenfield"]
EN_TRADES = ["Technology", "Trading", "Logistics", "Electronics", "Consulting"]
EN_LEGAL = ["Co., Ltd.", "Inc.", "GmbH", "Ltd.", "Corporation"]


@dataclass
class Entity:
    id: uuid.UUID
    name: str
    kind: str
    phone: str | None
    email: str | None
    province: str | None
    city: str | None
    district: str | None
    street: str | None
    # For variants.
    latin_name: tuple[str, str] | None = None  # (surname, given) for Chinese people
    company_parts: tuple[str, str, str, str] | None = None  # (city, core, trade, legal)


@dataclass
class BenchmarkSet:
    records: list[dict[str, Any]] = field(default_factory=list)
    true_pairs: set[frozenset[uuid.UUID]] = field(default_factory=set)
    party: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)  # record → its original


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        number = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        if number not in used:
            used.add(number)
            return number


def _person(rng: random.Random) -> tuple[str, tuple[str, str] | None]:
    if rng.random() < 0.85:
        (s_cn, s_en), (g_cn, g_en) = rng.choice(SURNAMES), rng.choice(GIVEN)
        return s_cn + g_cn, (s_en, g_en)
    return f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}", None


def _company(rng: random.Random, city: str) -> tuple[str, tuple[str, str, str, str] | None]:
    if rng.random() < 0.9:
        core = "".join(rng.sample(CORE_CHARS, 2))
        trade, legal = rng.choice(TRADES), rng.choice(LEGAL)
        short_city = city.removesuffix("市")
        return f"{short_city}{core}{trade}{legal}", (short_city, core, trade, legal)
    name = f"{rng.choice(EN_COMPANIES)} {rng.choice(EN_COMPANIES)} {rng.choice(EN_TRADES)}"
    return f"{name} {rng.choice(EN_LEGAL)}", None


def _entity(rng: random.Random, phones: set[str], n: int) -> Entity:
    province, city, district = rng.choice(CITIES)
    street = f"{rng.choice(STREETS)}{rng.randrange(1, 999)}号"
    if rng.random() < 0.5:
        name, latin = _person(rng)
        kind, parts = "individual", None
    else:
        name, parts = _company(rng, city)
        kind, latin = "company", None
    phone = _phone(rng, phones) if rng.random() < 0.85 else None
    email = (
        f"user{n}.{rng.randrange(10**6)}@example{rng.randrange(50)}.cn"
        if rng.random() < 0.6
        else None
    )
    return Entity(
        uuid.uuid4(), name, kind, phone, email, province, city, district, street, latin, parts
    )


def _typo(rng: random.Random, name: str) -> str:
    if len(name) < 3:
        return name + name[-1]
    i = rng.randrange(1, len(name) - 1)
    choice = rng.random()
    if choice < 0.4:
        pool = CORE_CHARS if "\u4e00" <= name[i] <= "\u9fff" else "abcdefghijklmnopqrstuvwxyz"
        return name[:i] + rng.choice(pool) + name[i + 1 :]
    if choice < 0.7:
        return name[:i] + name[i + 1 :]
    return name[:i] + name[i] + name[i:]


def _reformat_phone(rng: random.Random, phone: str) -> str:
    style = rng.randrange(4)
    if style == 0:
        return f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"
    if style == 1:
        return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    if style == 2:
        return f"+86{phone}"
    return f"（+86）{phone}"


def _variant(rng: random.Random, e: Entity) -> Entity:
    v = Entity(uuid.uuid4(), e.name, e.kind, e.phone, e.email, e.province, e.city, e.district,
               e.street)  # fmt: skip
    changes = rng.sample(["name", "phone", "email", "address"], rng.randint(1, 3))
    if "name" in changes:
        if e.latin_name and rng.random() < 0.5:  # transliteration, either order
            s, g = e.latin_name
            v.name = f"{s} {g}" if rng.random() < 0.5 else f"{g} {s}"
        elif e.company_parts and rng.random() < 0.6:  # abbreviation
            city, core, trade, legal = e.company_parts
            v.name = rng.choice([f"{core}{trade}", f"{city}{core}{trade}", f"{core}{trade}{legal}",
                                 f"{city}{core}{legal}"])  # fmt: skip
        elif e.kind == "individual" and " " in e.name and rng.random() < 0.5:  # swapped order
            first, last = e.name.split(" ", 1)
            v.name = f"{last} {first}"
        else:
            v.name = _typo(rng, e.name)
    if "phone" in changes and e.phone:
        v.phone = _reformat_phone(rng, e.phone) if rng.random() < 0.7 else None
    if "email" in changes and e.email:
        v.email = e.email.upper() if rng.random() < 0.6 else None
    if "address" in changes:
        if rng.random() < 0.5:
            v.province = None  # the province left out
        v.street = (e.street or "").replace("号", " 号").replace("路", "路 ")
    # Keep something recognisable: a name change and a lost phone and e-mail is a new party.
    if v.phone is None and v.email is None and v.name != e.name:
        v.phone = e.phone
    if v.phone is None and v.email is None and e.phone is None and e.email is None:
        v.name = e.name
    return v


def _row(e: Entity, n: int) -> dict[str, Any]:
    phone = normalize.normalize_phone(e.phone).e164 if e.phone else None
    email = normalize.normalize_email(e.email).normalized if e.email else None
    row = {
        "id": e.id,
        "code": f"B-{n:08d}",
        "name": e.name,
        "kind": e.kind,
        "phone": phone,
        "phone_raw": e.phone,
        "email": email,
        "website": None,
        "tax_id_index": None,
        "province": e.province,
        "city": e.city,
        "district": e.district,
        "street": e.street,
        "address_line": None,
    }

    class _R:
        pass

    r = _R()
    r.__dict__.update(row)
    row["dedup_keys"] = customer_keys(r)
    return row


def generate(n: int, *, duplicate_share: float = 0.1, seed: int = 2026) -> BenchmarkSet:
    """``n`` customers, of which about ``duplicate_share`` are planted duplicates."""
    data = BenchmarkSet()
    for row, original in _iter(n, duplicate_share, seed):
        data.records.append(row)
        data.party[row["id"]] = original or row["id"]
        if original is not None:
            data.true_pairs.add(frozenset((original, row["id"])))
    return data


def _iter(
    n: int, duplicate_share: float, seed: int
) -> Iterator[tuple[dict[str, Any], uuid.UUID | None]]:
    rng = random.Random(seed)
    phones: set[str] = set()
    originals: list[Entity] = []
    for i in range(n):
        if originals and rng.random() < duplicate_share:
            original = rng.choice(originals)
            yield _row(_variant(rng, original), i), original.id
        else:
            entity = _entity(rng, phones, i)
            originals.append(entity)
            yield _row(entity, i), None


def evaluate(
    data: BenchmarkSet, found: dict[frozenset[uuid.UUID], float], threshold: float
) -> dict[str, float]:
    """Precision, recall and F1 of the pairs scored at or above ``threshold``. Two planted
    duplicates of one original are one party too, so such a pair counts as correct; recall is
    over the (original, duplicate) pairs."""
    party: dict[uuid.UUID, uuid.UUID] = {}
    for pair in data.true_pairs:
        for i in pair:
            party[i] = data.party[i]
    predicted = {p for p, s in found.items() if s >= threshold}
    correct = sum(1 for p in predicted if len({party.get(i, i) for i in p}) == 1)
    precision = correct / len(predicted) if predicted else 1.0
    recall = len(data.true_pairs & predicted) / len(data.true_pairs) if data.true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "predicted": len(predicted)}
