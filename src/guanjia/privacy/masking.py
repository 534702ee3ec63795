"""How personal data is shown to a staff member: the rule, in one place.

* Phone numbers are shown whole to roles with ("phone", "view_full") in `org.permissions` (those who
  call owners back), and as 138****5678 / 010-****5678 to everyone else. Pages, API schemas, exports
  and the change history all apply this rule; `tests/test_masking.py` checks each of them per role.
* ID-card numbers are stored encrypted and shown masked (1101**********002X) to everyone. The whole
  number is shown only through `services.reveal_id_number`, an explicit action of a role with
  ("id_number", "reveal") that is written to the access log.
"""

from collections.abc import Callable
from typing import Any

from guanjia.estate.identity import mask_phone
from guanjia.org.permissions import can

# Field names that hold a phone number wherever they are recorded (party, request, call, staff).
PHONE_FIELDS = frozenset({"phone", "phone2", "caller_phone", "caller", "caller_raw"})


def may_see_full_phone(user) -> bool:
    return can(user, "phone", "view_full")


def show_phone(user, phone: str) -> str:
    """The phone as `user` may see it."""
    return phone if may_see_full_phone(user) else mask_phone(phone)


def phone_shower(user) -> Callable[[str], str]:
    """`show_phone` with the role decided once, for lists and exports of many rows."""
    if may_see_full_phone(user):
        return lambda phone: phone
    return mask_phone


def may_reveal_id_number(user) -> bool:
    return can(user, "id_number", "reveal")


def history_value(user, field_name: str, value: Any) -> Any:
    """A before/after value of the change history as `user` may see it: phones masked by role.

    The history stores values as they were typed, so a role that sees masked phones in the party's
    card must not read them whole a few lines lower in its change history.
    """
    if field_name in PHONE_FIELDS and isinstance(value, str) and value and not may_see_full_phone(user):
        return mask_phone(value)
    return value
