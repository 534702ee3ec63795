"""What staff may do in the portal's console pages (scope is checked separately, by the queries).

* Review binding requests: the butlers and customer service of the unit (and their supervisors).
* Write notices: the same people; area-scoped staff only for buildings of their areas.
* The developer page with demo sign-in codes: administrators, and only while no real SMS gateway
  is configured or in DEBUG (`sms.dev_outbox_enabled`).
"""

from guanjia.org.choices import Role

PORTAL_PERMISSIONS: dict[str, frozenset[str]] = {
    "review_bindings": frozenset({Role.BUTLER, Role.SPECIALIST, Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN}),
    "write_notices": frozenset({Role.BUTLER, Role.SPECIALIST, Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN}),
    "view_dev_outbox": frozenset({Role.ADMIN}),
}


def may(user, action: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if action == "view_dev_outbox":
        from .sms import dev_outbox_enabled

        if not dev_outbox_enabled():
            return False
    if user.is_superuser:
        return True
    return user.role in PORTAL_PERMISSIONS[action]
