"""The kinds of personal data redacted, and the checks that tell an identifier from a number that only
looks like one. The checks are the libraries' (python-stdnum, phonenumbers, ipaddress); this module
only picks and combines them."""

import ipaddress
import re
from enum import StrEnum

import phonenumbers
from stdnum import luhn
from stdnum.in_ import aadhaar, gstin, pan


class Entity(StrEnum):
    EMAIL_ADDRESS = "email_address"
    PHONE_NUMBER = "phone_number"
    AADHAAR = "aadhaar"
    PAN = "pan"
    CREDIT_CARD = "credit_card"
    UPI_ID = "upi_id"
    IP_ADDRESS = "ip_address"
    GSTIN = "gstin"

    @property
    def label(self) -> str:
        """What `entity_name` substitution writes: `[PHONE_NUMBER]`."""
        return f"[{self.value.upper()}]"


ALL_ENTITIES: frozenset[Entity] = frozenset(Entity)

# Whole-token shapes. An e-mail address needs a dot in its domain; a UPI ID (`name@handle`) has none.
_EMAIL_RE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
)
_UPI_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{1,255}@[A-Za-z][A-Za-z0-9]{1,63}")


def is_email_address(value: str) -> bool:
    return _EMAIL_RE.fullmatch(value) is not None


def is_upi_id(value: str) -> bool:
    return _UPI_RE.fullmatch(value) is not None


def is_ip_address(value: str) -> bool:
    # A bare integer is a valid address to ipaddress; said aloud it is just a number.
    if value.isdigit():
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_aadhaar(digits: str) -> bool:
    """12 digits, the first 2-9, Verhoeff check digit (and not a palindrome, which UIDAI never issues)."""
    return len(digits) == 12 and aadhaar.is_valid(digits)


def is_credit_card(digits: str) -> bool:
    # A run of one digit ("0000 0000 0000 0") passes Luhn but is never a card.
    return 13 <= len(digits) <= 19 and digits.isdigit() and len(set(digits)) > 1 and luhn.is_valid(digits)


def is_pan(value: str) -> bool:
    """AAAAA9999A with a holder-type fourth letter (P for a person, C for a company, ...)."""
    return len(value) == 10 and pan.is_valid(value)


def is_gstin(value: str) -> bool:
    """State code, the holder's PAN, entity number, Z, and a mod-36 check character."""
    return len(value) == 15 and gstin.is_valid(value)


# Numbers that reach a business, not a person (1800 toll-free, premium rate, "universal access"
# numbers such as 140...): no personal data, and the last would take 10-digit amounts for phones.
_BUSINESS_NUMBER_TYPES = frozenset(
    [
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.UAN,
    ]
)


def is_phone_number(digits: str, *, international: bool) -> bool:
    """As libphonenumber judges it: India the default region, or any country after a `+`; a person's
    or a line's number, not a business's."""
    if not 8 <= len(digits) <= 15 or not digits.isdigit():
        return False
    try:
        number = phonenumbers.parse(f"+{digits}" if international else digits, None if international else "IN")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) not in _BUSINESS_NUMBER_TYPES
