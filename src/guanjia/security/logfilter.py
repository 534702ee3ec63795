"""A logging filter that masks mainland mobile numbers and resident ID-card numbers in every record.

Installed on every handler in settings.LOGGING, so nothing written to the logs (Django's, the
worker's, gunicorn's access lines) carries a whole phone or ID number, whatever the code that
logged it passed in: a search query in a URL, an exception message quoting bad input, a
parameter of a text message. Masked as everywhere else in Guanjia: 138****5678 and
1101**********123X (`guanjia.estate.identity`).
"""

import logging
import re

from guanjia.estate.identity import mask_id_number, mask_phone

# An 18-character resident ID number: region (6), birth date 18xx–20xx (8), sequence (3), check.
# The birth date keeps long numbers that are not ID numbers (order ids, timestamps) out.
_ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
)
# A mainland mobile: 1[3-9] and nine digits, optionally written 138 1234 5678 / 138-1234-5678
# and prefixed with +86 or 86; never part of a longer run of digits.
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[ -]?)?(1[3-9]\d)([ -]?)(\d{4})\2(\d{4})(?!\d)")


def _mask_mobile(match: re.Match) -> str:
    return mask_phone(match.group(1) + match.group(3) + match.group(4))


def mask_personal_data(text: str) -> str:
    """`text` with every mobile and ID number in it masked."""
    if not text or not any(ch.isdigit() for ch in text):
        return text
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0).upper()), text)
    return _MOBILE.sub(_mask_mobile, text)


class PersonalDataFilter(logging.Filter):
    """Masks the formatted message and the traceback of each record; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # A bad format string: logging reports it when the handler formats the record; keep it.
            return True
        masked = mask_personal_data(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the traceback is written masked.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_data(record.stack_info)
        return True
