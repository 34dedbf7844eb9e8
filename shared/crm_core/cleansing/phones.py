"""Phone numbers: parsing any common notation to E.164 (with a Chinese-style extension kept
beside it), masking for messages and the API, and the digit forms used as search keys.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from crm_core.cleansing.issues import Issue
from crm_core.cleansing.text import clean_text


@dataclass(frozen=True, slots=True)
class PhoneResult:
    e164: str | None
    raw: str
    issue: Issue | None
    # E.164 has no room for an extension; kept beside it so "转123" is not silently lost.
    extension: str | None = None


INVALID_PHONE = "INVALID_PHONE"

# Chinese offices write the extension as "转123", "分机123" or "-123"; phonenumbers knows only the
# Western "ext."/"#" forms. Tried only when the whole text is not a valid number.
_CN_EXTENSION = re.compile(r"(.*\d)\s*(?:转|分机|-)\s*(\d{1,6})")
_PHONEISH = re.compile(r"\+?[\d\s()\-./]{5,}")


def _mask_digits(digits: str) -> str:
    if len(digits) >= 8:
        # At least four digits stay hidden whatever the length: 138****5678, 10****9988, ****9988.
        head = min(3, len(digits) - 8)
        return f"{digits[:head]}****{digits[-4:]}"
    if len(digits) >= 5:
        return f"****{digits[-2:]}"
    return "****"


def mask_phone(value: str) -> str:
    """``+8613812345678`` → ``+86138****5678``; short or odd values reveal at most two digits."""
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    text = unicodedata.normalize("NFKC", value).strip()
    digits = "".join(ch for ch in text if "0" <= ch <= "9")
    if not text.startswith("+") or not digits:
        return _mask_digits(digits)
    # Country codes are prefix-free, so the first 1-3 digit prefix that is one is the one.
    for size in (1, 2, 3):
        if int(digits[:size]) in COUNTRY_CODE_TO_REGION_CODE:
            return f"+{digits[:size]}{_mask_digits(digits[size:])}"
    return f"+{_mask_digits(digits)}"


def _parse_valid_phone(text: str, region: str) -> tuple[str, str | None] | None:
    import phonenumbers

    attempts: list[tuple[str, str | None]] = [(text, None)]
    if match := _CN_EXTENSION.fullmatch(text):
        attempts.append((match[1], match[2]))
    for candidate, extension in attempts:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            return e164, extension or number.extension or None
    return None


def normalize_phone(raw: str, *, default_region: str = "CN", field: str = "phone") -> PhoneResult:
    """Parse a phone number in any common notation; valid only if phonenumbers says so."""
    text = clean_text(raw) or ""
    if not text:
        return PhoneResult(None, "", Issue(field, INVALID_PHONE, "phone number is empty"))
    region = default_region.upper()
    parsed = _parse_valid_phone(text, region)
    if parsed is None:
        message = f"phone number {mask_phone(text)} is not a valid number (default region {region})"
        return PhoneResult(None, text, Issue(field, INVALID_PHONE, message))
    e164, extension = parsed
    return PhoneResult(e164, text, None, extension)


def _phone_digits(text: str, region: str) -> list[str]:
    # No phone number has fewer than five digits: most values (names, places) stop here, before
    # the number matcher, which is the costly part of building a search text.
    if sum(ch.isdigit() for ch in text) < 5:
        return []
    import phonenumbers

    found: list[str] = []
    for match in phonenumbers.PhoneNumberMatcher(text, region):
        number = match.number
        found.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:])
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        found.append(re.sub(r"\D", "", national))
    if not found and _PHONEISH.fullmatch(text):
        found.append(re.sub(r"\D", "", text))
    return found
