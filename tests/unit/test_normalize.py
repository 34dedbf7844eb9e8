"""Unit tests of crm_core.cleansing.normalize: pure functions, no database."""

from __future__ import annotations

import pytest

from crm_core.cleansing.normalize import (
    ADDRESS_UNPARSED,
    INVALID_EMAIL,
    INVALID_PHONE,
    AddressParts,
    clean_multiline,
    clean_text,
    format_address,
    mask_email,
    mask_phone,
    name_keys,
    normalize_email,
    normalize_phone,
    search_text,
    split_address,
)

LONG = "长" * 500 + "x" * 500

# --- text ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ１２３", "ABC123"),
        ("张伟\u3000\u3000销售部", "张伟 销售部"),
        ("  a \t b\n\nc\u00a0d  ", "a b c d"),
        ("a\u200bb\u200dc\ufeff\u00add\x07e", "abcde"),
        ("lone\ud800surrogate", "lonesurrogate"),
        ("张伟、李娜。", "张伟、李娜。"),
        # Chinese punctuation stays full-width beside CJK text ...
        ("张伟（销售部），你好！", "张伟（销售部），你好！"),
        ("周一～周五", "周一～周五"),
        ("“北京”（总部）", "“北京”（总部）"),
        # ... and becomes ASCII between Latin letters and digits.
        ("９：００～１８：００", "9:00~18:00"),
        ("A（B）", "A(B)"),
        ("zhang＠example．com", "zhang@example.com"),
        ("😀 emoji", "😀 emoji"),
        ("", None),
        ("   \u3000\t\n", None),
        ("\u200b\u200b", None),
        (None, None),
        (f"  {LONG}  ", LONG),
    ],
)
def test_clean_text(raw: str | None, expected: str | None) -> None:
    assert clean_text(raw) == expected
    assert clean_text(expected) == expected  # the cleansing actor re-runs it on stored values


def test_clean_multiline_keeps_single_newlines_and_one_blank_line() -> None:
    raw = "\n  first  line \r\nsecond\u3000line\n\n\n\n\t\nthird\u2028fourth\n\n"
    assert clean_multiline(raw) == "first line\nsecond line\n\nthird\nfourth"
    assert clean_multiline("a\n\nb") == "a\n\nb"
    assert clean_multiline(" \n\t\n ") is None
    assert clean_multiline(None) is None


@pytest.mark.parametrize(
    "raw", ["ＡＢ　张伟（部）， ok！", "９：００～１８", " x\u200b\n\n\n y ", LONG, "A ， 张"]
)
def test_text_cleaning_is_idempotent(raw: str) -> None:
    once = clean_text(raw)
    assert clean_text(once) == once
    multi = clean_multiline(raw)
    assert clean_multiline(multi) == multi


# --- phones --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "e164", "extension"),
    [
        ("138 1234 5678", "+8613812345678", None),
        ("+86 138-1234-5678", "+8613812345678", None),
        ("0086 13812345678", "+8613812345678", None),
        ("１３８１２３４５６７８", "+8613812345678", None),
        ("(010) 6552 9988", "+861065529988", None),
        ("010-65529988", "+861065529988", None),
        ("+1 (415) 555-2671", "+14155552671", None),
        ("+1 (415) 555-2671 ext. 123", "+14155552671", "123"),
        ("010-65529988转123", "+861065529988", "123"),
        ("010-65529988-123", "+861065529988", "123"),
        ("+8613812345678", "+8613812345678", None),
    ],
)
def test_normalize_phone_valid(raw: str, e164: str, extension: str | None) -> None:
    result = normalize_phone(raw)
    assert (result.e164, result.extension, result.issue) == (e164, extension, None)
    assert result.raw == clean_text(raw)
    again = normalize_phone(e164)
    assert again.e164 == e164
    assert again.issue is None


def test_normalize_phone_other_default_region() -> None:
    assert normalize_phone("(415) 555-2671", default_region="us").e164 == "+14155552671"


@pytest.mark.parametrize("raw", ["", "   ", "12345", "abc", "😀", "1381234567", "1" * 1000, "+"])
def test_normalize_phone_invalid(raw: str) -> None:
    result = normalize_phone(raw, field="phones.0.number")
    assert result.e164 is None
    assert result.issue is not None
    assert result.issue.field == "phones.0.number"
    assert result.issue.code == INVALID_PHONE


def test_phone_issue_masks_the_number() -> None:
    issue = normalize_phone("138 1234 567").issue
    assert issue is not None
    assert "13****4567" in issue.message
    assert "1234" not in issue.message


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+8613812345678", "+86138****5678"),
        ("13812345678", "138****5678"),
        ("+14155552671", "+141****2671"),
        ("65529988", "****9988"),
        ("12345", "****45"),
        ("12", "****"),
        ("", "****"),
        ("not a phone", "****"),
    ],
)
def test_mask_phone(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


# --- e-mail --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("zhang.wei@example.com", "zhang.wei@example.com"),
        ("  Zhang.Wei@Example.COM ", "Zhang.Wei@example.com"),
        ("zhang＠example．com", "zhang@example.com"),
        ("user@MÜNCHEN.de", "user@münchen.de"),
        ("user@xn--mnchen-3ya.de", "user@münchen.de"),
        ("张伟@例子.中国", "张伟@例子.中国"),
    ],
)
def test_normalize_email_valid(raw: str, normalized: str) -> None:
    result = normalize_email(raw)
    assert result == normalize_email(normalized)
    assert (result.normalized, result.issue) == (normalized, None)


@pytest.mark.parametrize(
    "raw",
    ["", "  ", "zhang.wei", "a@b", "a..b@example.com", "zhang wei@example.com", "😀", "x" * 1000],
)
def test_normalize_email_invalid(raw: str) -> None:
    result = normalize_email(raw, field="emails.1.address")
    assert result.normalized is None
    assert result.issue is not None
    assert (result.issue.field, result.issue.code) == ("emails.1.address", INVALID_EMAIL)


def test_email_issue_masks_the_address() -> None:
    issue = normalize_email("zhang.wei@@example.com").issue
    assert issue is not None
    assert "zhang.wei" not in issue.message
    assert "z***@example.com" in issue.message


def test_mask_email() -> None:
    assert mask_email("zhang.wei@example.com") == "z***@example.com"
    assert mask_email("@example.com") == "***@example.com"
    assert mask_email("nonsense") == "n***"
    assert mask_email("") == "***"


# --- addresses -----------------------------------------------------------------------------------


def _parts(line: str) -> str:
    p = split_address(line)
    return " ".join(
        v or "-" for v in (p.country, p.province, p.city, p.district, p.street, p.postal_code)
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("广东省深圳市南山区科技园南路88号", "CN 广东省 深圳市 南山区 科技园南路88号 -"),
        ("北京市朝阳区建国路88号 100022", "CN 北京市 北京市 朝阳区 建国路88号 100022"),
        ("上海浦东新区世纪大道100号", "CN 上海市 上海市 浦东新区 世纪大道100号 -"),
        ("深圳南山区科技园南路88号", "CN 广东省 深圳市 南山区 科技园南路88号 -"),
        ("广东深圳南山区", "CN 广东省 深圳市 南山区 - -"),
        ("中国 广东省 深圳市 南山区 邮编：518057", "CN 广东省 深圳市 南山区 - 518057"),
        ("吉林市船营区解放路1号", "CN 吉林省 吉林市 船营区 解放路1号 -"),
        ("哈尔滨道里区中央大街1号", "CN 黑龙江省 哈尔滨市 道里区 中央大街1号 -"),
        ("新疆乌鲁木齐市天山区", "CN 新疆维吾尔自治区 乌鲁木齐市 天山区 - -"),
        ("广西省南宁市青秀区", "CN 广西壮族自治区 南宁市 青秀区 - -"),
        ("湖北省仙桃市沔阳大道1号", "CN 湖北省 - 仙桃市 沔阳大道1号 -"),
        ("广东省东莞市长安镇", "CN 广东省 东莞市 - 长安镇 -"),
        ("海淀区中关村大街1号", "CN 北京市 北京市 海淀区 中关村大街1号 -"),
        # A short district name is not guessed: 朝阳门 is not in 朝阳区.
        ("北京朝阳门外大街1号", "CN 北京市 北京市 - 朝阳门外大街1号 -"),
        ("香港九龙弥敦道100号", "HK 香港特别行政区 - - 九龙弥敦道100号 -"),
    ],
)
def test_split_chinese_address(line: str, expected: str) -> None:
    assert _parts(line) == expected
    assert split_address(line).issue is None


def test_split_foreign_address() -> None:
    line = "1600 Amphitheatre Pkwy, Mountain View, CA 94043, USA"
    assert split_address(line) == AddressParts("US", None, None, None, line, None, None)
    assert split_address("88 Jianguo Rd, Beijing, P.R. China").country == "CN"
    assert split_address("12 Rue de Rivoli, 75001 Paris").country is None


@pytest.mark.parametrize(
    "line",
    ["朝阳区建国路88号", "中山路88号", "南京东路100号", "东京都新宿区西新宿2-8-1", LONG, "😀张"],
)
def test_split_address_unparsed(line: str) -> None:
    parts = split_address(line)
    assert parts.province is None
    assert parts.street == clean_text(line)
    assert parts.issue is not None
    assert (parts.issue.code, parts.issue.field) == (ADDRESS_UNPARSED, "address")


def test_split_address_unparsed_outside_china_is_not_an_issue() -> None:
    parts = split_address("东京都新宿区西新宿2-8-1", default_country="JP")
    assert (parts.country, parts.issue) == ("JP", None)


@pytest.mark.parametrize("line", ["", "   ", "\u200b", "😀"])
def test_split_address_junk(line: str) -> None:
    parts = split_address(line)
    assert parts.province is None
    assert parts.issue is None


@pytest.mark.parametrize(
    "line",
    [
        "北京市朝阳区建国路88号 100022",
        "深圳南山区科技园南路88号",
        "上海浦东新区世纪大道100号",
        "湖北省仙桃市沔阳大道1号",
        "香港九龙弥敦道100号",
    ],
)
def test_split_address_round_trips(line: str) -> None:
    parts = split_address(line)
    assert split_address(format_address(parts)) == parts


# --- search and dedup keys -----------------------------------------------------------------------


def test_search_text_example() -> None:
    text = search_text("张伟", "+8613812345678")
    for piece in ("张伟", "zhang wei", "zhangwei", "zw", "13812345678", "+8613812345678"):
        assert piece in text
    assert text == text.lower()


def test_search_text_phones_and_mixed_values() -> None:
    text = search_text("北京ABC科技", None, "", "+8613812345678 +14155552671", "010-6552 9988")
    for piece in ("北京abc科技", "beijingkeji", "bjkj", "13812345678", "4155552671", "01065529988"):
        assert piece in text


def test_search_text_junk() -> None:
    assert search_text() == ""
    assert search_text(None, "", "  ") == ""
    assert search_text("😀") == "😀"
    assert "chang" in search_text(LONG)


def test_name_keys_chinese() -> None:
    assert name_keys("张伟") == ["zhangwei", "zw", "weizhang"]
    assert name_keys("  王小明 ") == ["wangxiaoming", "wxm"]


def test_name_keys_latin_two_parts_ignore_order() -> None:
    assert name_keys("Zhang Wei") == name_keys("wei  ZHANG") == ["weizhang", "wz"]
    assert set(name_keys("Zhang Wei")) & set(name_keys("张伟"))
    assert name_keys("José García") == name_keys("Garcia, Jose")
    assert name_keys("John Ronald Tolkien") == ["johnronaldtolkien", "jrt"]


@pytest.mark.parametrize("name", ["", "   ", "😀", "---"])
def test_name_keys_junk(name: str) -> None:
    assert name_keys(name) == []
