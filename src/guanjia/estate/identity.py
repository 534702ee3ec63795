"""Phone numbers and resident ID-card numbers: validation, normal form, protection, masking."""

import base64
import hashlib
import hmac
import re
from datetime import date
from functools import cache

import phonenumbers
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
_LANDLINE_TYPES = {phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalize_phone(raw: str) -> str:
    """A mainland mobile as 13812345678, a landline as 010-12345678 (area code, dash, number).

    Raises ValidationError for anything that is not a valid mainland number.
    """
    text = re.sub(r"[\s\-()（）]", "", str(raw or ""))
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("“%(value)s” is not a phone number.") % {"value": raw}) from exc
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        raise ValidationError(_("“%(value)s” is not a valid mainland mobile or landline number.") % {"value": raw})
    national = str(number.national_number)
    kind = phonenumbers.number_type(number)
    if kind in _MOBILE_TYPES and len(national) == 11 and national.startswith("1"):
        return national
    if kind in _LANDLINE_TYPES:
        area_len = phonenumbers.length_of_geographical_area_code(number)
        if area_len:
            return f"0{national[:area_len]}-{national[area_len:]}"
    raise ValidationError(_("“%(value)s” is not a valid mainland mobile or landline number.") % {"value": raw})


def mask_phone(phone: str) -> str:
    """138****5678 for mobiles, 010-****5678 for landlines."""
    if not phone:
        return ""
    if "-" in phone:
        area, local = phone.split("-", 1)
        return f"{area}-{'*' * max(len(local) - 4, 0)}{local[-4:]}"
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 8 else "****"


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def validate_id_number(raw: str) -> str:
    """An 18-character resident ID number in upper case, checked by GB 11643 (birth date and check digit)."""
    value = str(raw or "").strip().upper().replace(" ", "")
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise ValidationError(_("An ID number has 17 digits followed by a digit or X."))
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise ValidationError(_("The birth date in this ID number does not exist.")) from exc
    if born.year < 1900 or born > date.today():
        raise ValidationError(_("The birth date in this ID number does not exist."))
    if id_check_digit(value[:17]) != value[17]:
        raise ValidationError(_("The check digit of this ID number is wrong."))
    return value


def mask_id_number(value: str) -> str:
    """1101**********123X: enough to recognise, not enough to use."""
    return f"{value[:4]}{'*' * 10}{value[-4:]}" if value else ""


@cache
def _data_key() -> bytes:
    secret = getattr(settings, "GUANJIA_DATA_KEY", "") or settings.SECRET_KEY
    return hashlib.sha256(("guanjia-personal-data:" + secret).encode()).digest()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_data_key()))


def protect_id_number(value: str) -> tuple[str, str, str]:
    """(encrypted, keyed digest, masked) for a validated ID number; empty strings for none."""
    if not value:
        return "", "", ""
    encrypted = _fernet().encrypt(value.encode()).decode()
    digest = hmac.new(_data_key(), value.encode(), hashlib.sha256).hexdigest()
    return encrypted, digest, mask_id_number(value)


def id_digest(value: str) -> str:
    return hmac.new(_data_key(), value.encode(), hashlib.sha256).hexdigest()


def reveal_id_number(encrypted: str) -> str:
    return _fernet().decrypt(encrypted.encode()).decode() if encrypted else ""
