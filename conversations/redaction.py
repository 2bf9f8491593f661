"""Mask what must never be stored in a chat: card numbers always, IBANs and personal identity codes by choice.

Everything here is pure text in, text out; the services that store text call ``redact`` before they store.
A number is masked only when its check digit holds, so order numbers and phone numbers stay as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

MASK = "•"
KEPT_DIGITS = 4

# A run of digits that single spaces or dashes may split into groups ("4242 4242-4242 4242").
_DIGIT_RUN = re.compile(r"(?<![\w])\d+(?:[ -]\d+)*(?![\w])")
_GROUP = re.compile(r"\d+")
CARD_MIN_DIGITS, CARD_MAX_DIGITS = 13, 19
# Card networks' numbers start with 2 (Mastercard 2-series), 3 (Amex, JCB, Diners), 4 (Visa), 5 or 6.
_CARD_FIRST_DIGITS = frozenset("23456")

_IBAN = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![\w])")
IBAN_MIN_LENGTH, IBAN_MAX_LENGTH = 15, 34

_HETU = re.compile(r"(?<![\w])(\d{6})([-+A-FU-Y])(\d{3})([0-9A-Y])(?![\w])")
_HETU_CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_PESEL = re.compile(r"(?<![\w])\d{11}(?![\w])")
_PESEL_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)


@dataclass(frozen=True)
class Redaction:
    """What ``redact`` returns: the text to store and what it masked."""

    text: str
    cards: int = 0
    others: int = 0

    @property
    def masked_anything(self) -> bool:
        return bool(self.cards or self.others)


def luhn_valid(digits: str) -> bool:
    """Say whether a string of digits passes the Luhn check (the check digit of card numbers)."""
    total = 0
    for position, character in enumerate(reversed(digits)):
        value = int(character)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def is_card_number(digits: str) -> bool:
    """Say whether digits (no separators) read as a payment card number."""
    return CARD_MIN_DIGITS <= len(digits) <= CARD_MAX_DIGITS and digits[0] in _CARD_FIRST_DIGITS and luhn_valid(digits)


def _mask_digits(text: str, keep: int = KEPT_DIGITS) -> str:
    """Replace every digit or letter but the last ``keep`` with the mask; keep the separators."""
    alnum = sum(character.isalnum() for character in text)
    out, seen = [], 0
    for character in text:
        if character.isalnum():
            seen += 1
            out.append(character if seen > alnum - keep else MASK)
        else:
            out.append(character)
    return "".join(out)


def _card_span(groups: list[re.Match]) -> tuple[int, int] | None:
    """Return the groups (first, last index) of the longest card number in a run, leftmost first."""
    for first in range(len(groups)):
        candidates, digits = [], ""
        for last in range(first, len(groups)):
            digits += groups[last].group()
            if len(digits) > CARD_MAX_DIGITS:
                break
            candidates.append((last, digits))
        for last, digits in reversed(candidates):
            if is_card_number(digits):
                return first, last
    return None


def _mask_cards_in_run(run: str) -> tuple[str, int]:
    """Mask every card number made of whole groups of a digit run; return the run and how many."""
    groups, found = list(_GROUP.finditer(run)), 0
    pieces, start = [], 0
    while groups:
        span = _card_span(groups)
        if span is None:
            break
        first, last = span
        begin, end = groups[first].start(), groups[last].end()
        pieces += [run[start:begin], _mask_digits(run[begin:end])]
        start, groups, found = end, groups[last + 1 :], found + 1
    pieces.append(run[start:])
    return "".join(pieces), found


def _substitute(pattern: re.Pattern, text: str, mask: Callable[[str], tuple[str, int]]) -> tuple[str, int]:
    """Replace each match by what ``mask`` makes of it; return the text and how many it masked."""
    count = 0

    def replace(match: re.Match) -> str:
        nonlocal count
        masked, found = mask(match.group())
        count += found
        return masked

    return pattern.sub(replace, text), count


def mask_card_numbers(text: str) -> tuple[str, int]:
    """Mask Luhn-valid card numbers (13–19 digits, spaces or dashes allowed), keeping the last four digits."""
    return _substitute(_DIGIT_RUN, text, _mask_cards_in_run)


def iban_valid(candidate: str) -> bool:
    """Say whether an IBAN (spaces allowed) has a valid length and mod-97 checksum."""
    compact = candidate.replace(" ", "")
    if not IBAN_MIN_LENGTH <= len(compact) <= IBAN_MAX_LENGTH:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(character, 36)) for character in rearranged)) % 97 == 1


def hetu_valid(match: re.Match) -> bool:
    """Say whether a Finnish personal identity code's check character matches."""
    birth, _sign, serial, check = match.groups()
    day, month = int(birth[:2]), int(birth[2:4])
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return False
    return _HETU_CHECK_CHARACTERS[int(birth + serial) % 31] == check


def pesel_valid(digits: str) -> bool:
    """Say whether a Polish PESEL has a possible birth date and a matching check digit."""
    month, day = int(digits[2:4]) % 20, int(digits[4:6])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(digits, _PESEL_WEIGHTS, strict=False))
    return (10 - total % 10) % 10 == int(digits[10])


def _mask_valid(pattern: re.Pattern, text: str, valid: Callable[[re.Match], bool], *, keep: int) -> tuple[str, int]:
    def mask(candidate: str) -> tuple[str, int]:
        if not valid(pattern.fullmatch(candidate)):
            return candidate, 0
        return _mask_digits(candidate, keep=keep), 1

    return _substitute(pattern, text, mask)


def _mask_iban(candidate: str) -> tuple[str, int]:
    """Mask the longest valid IBAN the candidate starts with (a capitalised word may follow it)."""
    words = candidate.split(" ")
    for count in range(len(words), 0, -1):
        head = " ".join(words[:count])
        if iban_valid(head):
            return _mask_digits(head) + candidate[len(head) :], 1
    return candidate, 0


def mask_ibans(text: str) -> tuple[str, int]:
    """Mask IBANs with a valid checksum, keeping the last four characters."""
    return _substitute(_IBAN, text, _mask_iban)


def mask_personal_ids(text: str) -> tuple[str, int]:
    """Mask Finnish henkilötunnus and Polish PESEL codes whose check character holds, entirely."""
    text, hetus = _mask_valid(_HETU, text, hetu_valid, keep=0)
    text, pesels = _mask_valid(_PESEL, text, lambda match: pesel_valid(match.group()), keep=0)
    return text, hetus + pesels


def redact(text: str, *, ibans: bool = False, personal_ids: bool = False) -> Redaction:
    """Mask card numbers always, and IBANs or personal identity codes when asked."""
    if not text or not any(character.isdigit() for character in text):
        return Redaction(text=text)
    others = 0
    if ibans:
        text, found = mask_ibans(text)
        others += found
    if personal_ids:
        text, found = mask_personal_ids(text)
        others += found
    text, cards = mask_card_numbers(text)
    return Redaction(text=text, cards=cards, others=others)
