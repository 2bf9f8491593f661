"""Card numbers are masked wherever they appear in a text; numbers that only look like them are not."""

from __future__ import annotations

import pytest

from conversations.redaction import MASK, mask_card_numbers, redact

# The networks' published test numbers, written as people type them.
TEST_CARDS = [
    "4242424242424242",  # Visa
    "4242 4242 4242 4242",
    "4111-1111-1111-1111",
    "4012 8888 8888 1881",
    "4000 0566 5566 5556",  # Visa debit
    "4222222222222",  # Visa, 13 digits
    "5555 5555 5555 4444",  # Mastercard
    "5105-1051-0510-5100",
    "2223 0031 2200 3222",  # Mastercard 2-series
    "3782 822463 10005",  # American Express
    "371449635398431",
    "6011 1111 1111 1117",  # Discover
    "3530 1113 3330 0000",  # JCB
    "3056 9309 0259 04",  # Diners Club, 14 digits
    "6200 0000 0000 0005",  # UnionPay
    "4242 4242 4242 4242 428",  # 19 digits (Visa issues them; the check digit holds)
]

LOOKALIKES = [
    "Order 1234567890123456 was sent",  # an order number whose check digit is off
    "4242 4242 4242 4241",  # a card number mistyped: the Luhn check fails
    "Call me on +358 40 123 4567",
    "tel. +48 601 234 567",
    "040-1234567",
    "Invoice 2026-12-07-0001",
    "tracking JJFI64000712345678901",
    "reference 12345 67890 12345",
    "ticket 9999999999999999",  # a number no card network starts with
    "1111 1111 1111 1111",
]


@pytest.mark.parametrize("card", TEST_CARDS)
def test_a_test_card_number_is_masked_but_its_last_four_digits(card):
    text = f"My card is {card}, expires 12/29."

    masked, found = mask_card_numbers(text)

    digits = "".join(character for character in card if character.isdigit())
    assert found == 1
    assert digits not in masked.replace(" ", "").replace("-", "")
    assert masked.startswith("My card is ") and masked.endswith(f"{card[-4:]}, expires 12/29.")
    assert masked.count(MASK) == len(digits) - 4


def test_the_mask_keeps_the_writers_grouping():
    assert redact("4242 4242 4242 4242").text == "•••• •••• •••• 4242"
    assert redact("4111-1111-1111-1111").text == "••••-••••-••••-1111"


@pytest.mark.parametrize("text", LOOKALIKES)
def test_a_number_that_is_not_a_card_stays_as_written(text):
    result = redact(text)

    assert (result.text, result.cards) == (text, 0)


def test_several_cards_in_one_text_are_all_masked_and_counted():
    result = redact("Visa 4242424242424242 or Amex 378282246310005?")

    assert result.cards == 2
    assert result.text == "Visa ••••••••••••4242 or Amex •••••••••••0005?"


def test_a_card_followed_by_more_digits_is_still_found():
    # the expiry and the security code typed straight after the number
    assert redact("4242 4242 4242 4242 12 29 123").text == "•••• •••• •••• 4242 12 29 123"


@pytest.mark.parametrize(
    "iban",
    ["FI21 1234 5600 0007 85", "FI2112345600000785", "PL61 1090 1014 0000 0712 1981 2874", "DE89370400440532013000"],
)
def test_an_iban_with_a_valid_checksum_is_masked_when_the_tenant_asks(iban):
    text = f"Pay to {iban} please"

    assert redact(text).text == text
    masked = redact(text, ibans=True)
    assert masked.others == 1
    assert masked.text.startswith("Pay to ") and masked.text.endswith(f"{iban[-4:]} please")
    assert iban[:8] not in masked.text


def test_an_iban_with_a_wrong_checksum_stays():
    text = "Pay to FI21 1234 5600 0007 86 please"

    assert redact(text, ibans=True).text == text


@pytest.mark.parametrize("code", ["131052-308T", "44051401359", "02070803628"])
def test_a_finnish_or_polish_identity_code_is_masked_when_the_tenant_asks(code):
    text = f"My id is {code}."

    assert redact(text).text == text
    masked = redact(text, personal_ids=True)
    assert (masked.text, masked.others) == (f"My id is {''.join(c if not c.isalnum() else MASK for c in code)}.", 1)


@pytest.mark.parametrize("code", ["131052-308U", "44051401358", "99999999999", "48601234567"])
def test_an_identity_code_with_a_wrong_check_character_stays(code):
    text = f"Number {code}"

    assert redact(text, personal_ids=True).text == text
