"""Who may do what to a request: a role, or a relation to the request, allows an action.

Scope (which projects) is checked separately, through `queries.cases_for`. Relations:
`owner` (the first-contact owner), `assignee`, `department` (a member of the case's department),
and for tasks `task_assignee` and `task_department`.
"""

from guanjia.org.choices import DepartmentKind, Role

ALL_ROLES = frozenset(Role.values)
SUPERVISORS = frozenset({Role.ADMIN, Role.MANAGER, Role.TEAM_LEAD})
OFFICE = SUPERVISORS | {Role.SPECIALIST}
INTAKE = OFFICE | {Role.BUTLER, Role.FRONT_DESK}

# action → (roles that may always, relations that also allow it)
CASE_PERMISSIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "record": (INTAKE, frozenset()),
    "dispatch": (OFFICE, frozenset({"owner"})),
    "split": (OFFICE, frozenset({"owner"})),
    "start": (OFFICE, frozenset({"owner", "assignee", "department"})),
    "submit": (OFFICE, frozenset({"owner", "assignee", "department"})),
    # First-contact responsibility: the owner closes; supervisors may close for an absent owner.
    "close": (SUPERVISORS, frozenset({"owner"})),
    "follow_up": (OFFICE | {Role.BUTLER}, frozenset({"owner"})),
    # Customer service writes to the property company about a complaint against it (DOMAIN: within 8 hours).
    "notice": (OFFICE, frozenset({"owner"})),
    "archive": (OFFICE, frozenset()),
    "suspend": (SUPERVISORS, frozenset({"owner", "assignee"})),
    "resume": (SUPERVISORS, frozenset({"owner", "assignee"})),
    "reopen": (SUPERVISORS, frozenset({"owner"})),
    "merge": (OFFICE, frozenset()),
    "note": (ALL_ROLES, frozenset()),
    "change_owner": (SUPERVISORS, frozenset()),
    # Tasks
    "propose_plan": (SUPERVISORS, frozenset({"task_assignee", "task_department"})),
    "complete_task": (SUPERVISORS, frozenset({"task_assignee", "task_department"})),
    "confirm_plan": (OFFICE, frozenset({"owner"})),
    "accept_task": (OFFICE, frozenset({"owner"})),
    "cancel_task": (OFFICE, frozenset({"owner"})),
}

# Repair tasks: engineering checks the work, cost checks the bill; members of those departments sign.
ACCEPTANCE_ROLES = {
    "engineering": (SUPERVISORS, DepartmentKind.ENGINEERING),
    "cost": (frozenset({Role.ADMIN, Role.MANAGER}), DepartmentKind.COST),
}


def relations(user, case, task=None) -> set[str]:
    found = set()
    if case.owner_id == user.pk:
        found.add("owner")
    if case.assignee_id == user.pk:
        found.add("assignee")
    if user.department_id and case.department_id == user.department_id:
        found.add("department")
    if task is not None:
        if task.assignee_id == user.pk:
            found.add("task_assignee")
        if user.department_id and task.department_id == user.department_id:
            found.add("task_department")
    return found


def may(user, action: str, case=None, task=None) -> bool:
    """True when the user's role or relation to the case allows `action` (inside the user's scope)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    roles, allowed_relations = CASE_PERMISSIONS[action]
    if user.role in roles:
        return True
    return case is not None and bool(allowed_relations & relations(user, case, task))


def may_accept_as(user, acceptance: str) -> bool:
    """True when the user may sign the engineering or the cost acceptance of a repair task."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    roles, department_kind = ACCEPTANCE_ROLES[acceptance]
    if user.role in roles:
        return True
    return bool(user.department_id) and user.department.kind == department_kind
