"""Mainland identity numbers (GB 11643) and mobile numbers: the one check used by every app."""

import re
from operator import mul

ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]")
MOBILE = re.compile(r"1[3-9][0-9]{9}")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_ASCII_OFFSET = ord("0") * sum(_ID_WEIGHTS)  # weights applied to the digits' code points, not their values


def id_check_digit(first17: str) -> str:
    """GB 11643 check digit of the first 17 digits (ASCII) of an identity number."""
    return _ID_CHECK[(sum(map(mul, first17.encode(), _ID_WEIGHTS)) - _ID_ASCII_OFFSET) % 11]


def is_valid_id_number(value: str) -> bool:
    """18 characters, the last a correct check digit (an upper-case X counts; callers upper-case first)."""
    return bool(ID_NUMBER.fullmatch(value)) and id_check_digit(value[:17]) == value[17]


def is_valid_mobile(value: str) -> bool:
    return bool(MOBILE.fullmatch(value))
