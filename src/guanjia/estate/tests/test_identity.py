import pytest
from django.core.exceptions import ValidationError

from guanjia.estate.identity import (
    id_check_digit,
    mask_id_number,
    mask_phone,
    normalize_phone,
    protect_id_number,
    reveal_id_number,
    validate_id_number,
)

VALID_ID = "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("010-62345678", "010-62345678"),
        ("(0755) 8612 3456", "0755-86123456"),
    ],
)
def test_phone_is_normalised(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "1381234567", "23812345678", "abc", "+1 650 253 0000"])
def test_invalid_phone_is_refused(raw):
    with pytest.raises(ValidationError):
        normalize_phone(raw)


def test_phone_masks():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("010-62345678") == "010-****5678"


def test_id_number_check_digit_gb11643():
    assert id_check_digit(VALID_ID[:17]) == "X"
    assert validate_id_number(VALID_ID.lower()) == VALID_ID


@pytest.mark.parametrize("raw", ["110105194912310021", "11010519491331002X", "1101051949123100", "ABCDEFGHIJKLMNOPQR"])
def test_bad_id_numbers_are_refused(raw):
    with pytest.raises(ValidationError):
        validate_id_number(raw)


def test_id_number_is_stored_encrypted_and_shown_masked():
    encrypted, digest, masked = protect_id_number(VALID_ID)
    assert VALID_ID not in encrypted and VALID_ID not in digest
    assert masked == mask_id_number(VALID_ID) == "1101**********002X"
    assert reveal_id_number(encrypted) == VALID_ID
