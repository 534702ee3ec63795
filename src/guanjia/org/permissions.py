"""What each role may do, in one table. Scope (which projects) is decided separately in scope.py.

Keys are (object kind, action). Every role may view what is inside its scope.
"""

from .choices import Role

ALL_ROLES = frozenset(Role.values)
_OFFICE = frozenset({Role.ADMIN, Role.MANAGER, Role.TEAM_LEAD, Role.SPECIALIST})

PERMISSIONS: dict[tuple[str, str], frozenset[str]] = {
    ("project", "view"): ALL_ROLES,
    ("project", "change"): frozenset({Role.ADMIN, Role.MANAGER}),
    ("building", "view"): ALL_ROLES,
    ("building", "change"): frozenset({Role.ADMIN, Role.MANAGER}),
    ("unit", "view"): ALL_ROLES,
    ("unit", "change"): _OFFICE,
    ("party", "view"): ALL_ROLES,
    ("party", "change"): _OFFICE | {Role.BUTLER, Role.FRONT_DESK},
    ("ledger", "import"): frozenset({Role.ADMIN, Role.MANAGER, Role.SPECIALIST}),
    ("ledger", "export"): _OFFICE | {Role.BUTLER},
    # Request lists to xlsx (reports.exports): office staff and quality inspectors.
    ("cases", "export"): _OFFICE | {Role.INSPECTOR},
    # Periodic reports (reports.services): write the commentary and submit; butlers write the weekly area report.
    ("report", "submit"): _OFFICE | {Role.BUTLER},
    # Case collection (reports.casebook): mark a request as typical and write it up; review (publish, return, withdraw).
    ("case_study", "write"): _OFFICE,
    ("case_study", "review"): frozenset({Role.ADMIN, Role.MANAGER, Role.TEAM_LEAD}),
    # Full phone numbers: the people who call owners back. Others see 138****5678.
    ("phone", "view_full"): _OFFICE | {Role.BUTLER, Role.FRONT_DESK},
    # Hotline (guanjia.telephony): the call system posts events with a token of a dedicated account
    # of one of these roles, scoped to the company or project whose lines it serves.
    ("call", "post_events"): frozenset({Role.ADMIN, Role.MANAGER}),
    ("call", "answer"): _OFFICE | {Role.FRONT_DESK},  # gets the screen-pop
    ("call", "view"): _OFFICE | {Role.FRONT_DESK, Role.INSPECTOR},  # the call list (agents: their own calls)
    ("call", "supervise"): frozenset({Role.ADMIN, Role.MANAGER, Role.TEAM_LEAD, Role.INSPECTOR}),
    # WeChat drafts (guanjia.wechat): read the followers' messages and turn them into requests.
    ("wechat", "convert"): _OFFICE | {Role.FRONT_DESK},
    # Personal data (guanjia.privacy, docs/privacy.md). Every use is written to the access log.
    ("id_number", "reveal"): _OFFICE,  # show one whole ID number, on request
    ("party", "export_data"): _OFFICE,  # everything held about one person (PIPL right of access)
    ("party", "anonymise"): frozenset({Role.ADMIN}),  # irreversible (PIPL right of deletion)
    ("privacy", "view_log"): frozenset({Role.ADMIN, Role.MANAGER}),  # browse the access log of their scope
}


def can(user, kind: str, action: str) -> bool:
    """True when the user's role allows `action` on objects of `kind` (inside the user's scope)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.role in PERMISSIONS.get((kind, action), frozenset())
