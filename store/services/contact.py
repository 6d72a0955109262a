"""A shopper's contact details as typed or shared at checkout: name, phone number, shipping address."""

from __future__ import annotations

import re

import phonenumbers

from store.errors import ErrorCode, InvalidInput

NAME_MAX = 64
ADDRESS_MIN, ADDRESS_MAX = 10, 300


def parse_phone(text: str, region: str) -> str:
    """Validate a phone number and return it in E.164 form (+12025550143)."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(ErrorCode.PHONE_UNREADABLE) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(ErrorCode.PHONE_INVALID)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def shared_phone(phone_number: str) -> str:
    """The number of a contact shared with Telegram's own button, as "+" and its digits.

    Telegram vouches for it, so it is not checked against numbering plans: anonymous +888
    numbers (Fragment) are valid there and nowhere else.
    """
    digits = "".join(ch for ch in phone_number if ch.isdigit())
    if not 5 <= len(digits) <= 20:
        raise InvalidInput(ErrorCode.PHONE_INVALID)
    return f"+{digits}"


def parse_contact(text: str, region: str, fallback_name: str) -> tuple[str, str]:
    """Split typed contact details ("Ann Lee, +1 202 555 0143") into a name and an E.164 phone."""
    text = " ".join(text.split())
    if not text:
        raise InvalidInput(ErrorCode.CONTACT_EMPTY)
    match = next(iter(phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE)),
                 None)
    if match is None:
        # No recognisable number: let parse_phone explain what is wrong.
        return clean_name(fallback_name), parse_phone(text, region)
    phone = parse_phone(match.raw_string, region)
    name = (text[: match.start] + " " + text[match.end:]).strip(" ,;:-")
    return clean_name(name or fallback_name), phone


def parse_name(text: str, region: str, fallback_name: str) -> str:
    """A typed name when no phone is needed: a phone number typed with it is left out, not kept."""
    text = " ".join(text.split())
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
        text = text.replace(match.raw_string, " ")
    return clean_name(text.strip(" ,;:-") or fallback_name)


def clean_name(name: str) -> str:
    """Validate a contact name: 1 to NAME_MAX characters, some of them letters."""
    name = " ".join(name.split())
    if not name or not any(ch.isalpha() for ch in name):
        raise InvalidInput(ErrorCode.NAME_MISSING)
    if len(name) > NAME_MAX:
        raise InvalidInput(ErrorCode.NAME_TOO_LONG, max=NAME_MAX)
    return name


def one_line(address: str) -> str:
    """An address on one line (a reply-keyboard button cannot hold line breaks)."""
    return address.replace("\n", ", ")


def clean_address(text: str) -> str:
    """Validate a typed shipping address and return it on one tidy line per line typed."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    address = "\n".join(line for line in lines if line)
    if len(address) < ADDRESS_MIN or not re.search(r"\w", address):
        raise InvalidInput(ErrorCode.ADDRESS_TOO_SHORT)
    if len(address) > ADDRESS_MAX:
        raise InvalidInput(ErrorCode.ADDRESS_TOO_LONG, max=ADDRESS_MAX)
    return address
