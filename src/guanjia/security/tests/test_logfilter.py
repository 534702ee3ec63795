"""Mobile and ID-card numbers never reach the logs whole: the filter on every configured handler."""

import io
import logging

import pytest
from django.conf import settings

from guanjia.estate.identity import id_check_digit
from guanjia.security.logfilter import PersonalDataFilter, mask_personal_data

ID_NUMBER = "11010519850505432" + id_check_digit("11010519850505432")


def configured_handlers():
    """The handlers settings.LOGGING installed, found on the loggers it names."""
    names = [None, *settings.LOGGING["loggers"]]
    found = []
    for name in names:
        for handler in logging.getLogger(name).handlers:
            if any(isinstance(f, PersonalDataFilter) for f in handler.filters) and handler not in found:
                found.append(handler)
    return found


def test_every_handler_in_the_settings_has_the_filter():
    for name, handler in settings.LOGGING["handlers"].items():
        assert "personal_data" in handler.get("filters", []), name
    for name, logger in settings.LOGGING["loggers"].items():
        # A logger either writes through the configured handlers or passes its records up to them.
        assert logger.get("handlers") or logger.get("propagate", True), name


@pytest.mark.parametrize("logger_name", ["guanjia.cases", "django.request", "gunicorn.access", "huey"])
def test_a_logged_phone_and_id_number_come_out_masked(logger_name):
    logger = logging.getLogger(logger_name)
    handlers = configured_handlers()
    assert handlers
    streams = {}
    for handler in handlers:
        streams[handler] = handler.setStream(io.StringIO())
    try:
        logger.warning("caller %s, ID %s, query /cases/?q=%s", "13812345678", ID_NUMBER, "139 8765 1502")
        try:
            raise ValueError(f"“{ID_NUMBER}” does not belong to 13812345678")
        except ValueError:
            logger.exception("lookup failed")
        written = "".join(h.stream.getvalue() for h in handlers)
    finally:
        for handler, stream in streams.items():
            handler.setStream(stream)
    assert "caller 138****5678, ID 1101**********432" in written
    assert "q=139****1502" in written
    assert "ValueError: “1101**********" in written and "belong to 138****5678" in written
    assert "13812345678" not in written and ID_NUMBER not in written and "139 8765 1502" not in written


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", "138****5678"),
        ("+86 138-1234-5678 called", "138****5678 called"),
        ("tel:8613812345678", "tel:138****5678"),
        (f"id={ID_NUMBER.lower()}", f"id=1101**********{ID_NUMBER[-4:]}"),
        # Not phone or ID numbers: other lengths, inside longer numbers, case numbers, timestamps.
        ("order 1381234567890", "order 1381234567890"),
        ("GJ202601010001 at 1767225600", "GJ202601010001 at 1767225600"),
        ("call 12345678901", "call 12345678901"),
        ("amount 110105198505054", "amount 110105198505054"),
        ("", ""),
    ],
)
def test_masking_finds_mobiles_and_id_numbers_only(text, expected):
    assert mask_personal_data(text) == expected


def test_a_record_with_a_broken_format_is_kept():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s and %s", ("only one",), None)
    assert PersonalDataFilter().filter(record) is True
