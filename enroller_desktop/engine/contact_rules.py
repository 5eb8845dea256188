"""The contact libraries' rules on one value (RULES §3, "Precise readings": Phone, Email).

Kept apart from the SQL of :mod:`enroller_desktop.engine.contacts` so that a worker
process judging values imports only the two libraries, and starts in a tenth of the time.
"""

from __future__ import annotations

from collections.abc import Sequence

import email_validator
import phonenumbers
from phonenumbers import PhoneNumberType

EMAIL = "email"
PHONE = "phone"

_MESSAGE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def email_is_valid(value: str) -> bool:
    """RULES §3 Valid Email, on the value as stored (not trimmed), without DNS.

    The library answers a bad address with ``EmailNotValidError``; any other
    exception on a hostile value is a failed address too, never a crash of the run.
    """
    try:
        email_validator.validate_email(value, check_deliverability=False)
    except Exception:  # noqa: BLE001 - whatever the library cannot judge is not a valid address
        return False
    return True


def phone_verdict(value: str, country: str) -> tuple[bool, bool]:
    """(valid, mobile) of ``value`` for the organization's ``country`` (RULES §3 Phone).

    ``mobile`` is true only for a valid number of type MOBILE or FIXED_LINE_OR_MOBILE
    (in Canada and the United States every ordinary number is the latter). A value
    the library cannot parse fails both.
    """
    try:
        number = phonenumbers.parse(value, country)
        if not phonenumbers.is_valid_number_for_region(number, country):
            return False, False
        return True, phonenumbers.number_type(number) in _MESSAGE_TYPES
    except Exception:  # noqa: BLE001 - NumberParseException, or worse on a hostile value
        return False, False


def judge(kind: str, country: str, values: Sequence[str]) -> list[tuple[bool, bool]]:
    """The (valid, mobile) verdicts of ``values`` of ``kind``, in order."""
    if kind == EMAIL:
        return [(email_is_valid(value), False) for value in values]
    return [phone_verdict(value, country) for value in values]


#: The bits of a packed verdict.
VALID, MOBILE = 1, 2


def judge_packed(kind: str, country: str, values: Sequence[str]) -> bytes:
    """:func:`judge` as one byte a value (``VALID | MOBILE`` bits): what a worker
    process sends back. A list of tuples cost the main process a pickled object
    per value, and a million of them slowed its garbage collections past 100 ms
    (the window's thread waits meanwhile)."""
    return bytes(VALID * valid | MOBILE * mobile for valid, mobile in judge(kind, country, values))
