"""The keys support looks orders up by, and how a return's reason is written and read back."""

from __future__ import annotations

from domain import limits
from domain.lookup import email_key, postcode_key
from domain.returns import ReturnReason, reason_of, reason_text


def test_what_is_typed_and_what_was_stored_meet_in_one_key():
    assert postcode_key("1012 ab") == postcode_key("1012AB") == postcode_key(" 1012\tAb ") == "1012AB"
    assert postcode_key("SW1A 1AA") == "SW1A1AA"
    assert email_key(" Kim.Jansen@Example.NL ") == email_key("kim.jansen@example.nl") == "kim.jansen@example.nl"
    assert postcode_key("") == email_key("") == ""


def test_text_too_long_for_a_key_gets_none_rather_than_a_shortened_one():
    assert postcode_key("1" * (limits.POSTCODE + 1)) == ""
    assert postcode_key("1" * limits.POSTCODE) == "1" * limits.POSTCODE
    assert email_key("a" * (limits.EMAIL + 1)) == ""


def test_a_reason_with_a_note_reads_back_as_its_reason():
    assert reason_text(ReturnReason.DAMAGED) == "damaged"
    assert reason_text(ReturnReason.DOES_NOT_FIT, "  two sizes too small ") == "does not fit: two sizes too small"
    assert reason_of("does not fit: two sizes too small") is ReturnReason.DOES_NOT_FIT
    assert reason_of("Damaged") is ReturnReason.DAMAGED
    assert reason_of("the customer called: broken") is ReturnReason.OTHER
    assert reason_of("") is ReturnReason.OTHER
