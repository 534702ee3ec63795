"""Repeat complaints (重复投诉): the same problem of the same unit raised again within 30 days.

A new request is a repeat of an earlier one when

* both are complaints or repairs (a leak reported as a repair and then complained about is the
  same problem raised twice; inquiries, suggestions, praise and requests for help are not);
* they share at least one unit (requests without a unit cannot be matched to a household);
* their categories belong to the same family: a category's family is its second-level ancestor
  (工程质量 → 渗漏 → 卫生间渗漏 and 工程质量 → 渗漏 → 外墙渗漏 are both 渗漏), or the category
  itself when it sits at the first or second level. A request filed under a first-level category
  only (工程质量) matches only requests filed there too, since it says too little to compare.
  Requests without a category are not matched;
* the earlier one was received at most `REPEAT_WINDOW` before the new one and was not merged
  into another request (its survivor is the one to link).

The rule is the customer's history, not the recorder's view, so it looks at every request of the
project. `do_record_case` links the new request to the most recent match (`Case.repeat_of`) and
notes the link on its "recorded" event; the earlier request lists it under `repeats`.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from guanjia.core.compiled import CompiledQuery

from .choices import CaseType
from .config import descendant_ids
from .models import Case, CaseUnit, Category

REPEAT_WINDOW = timedelta(days=30)
REPEAT_TYPES = frozenset({CaseType.COMPLAINT, CaseType.REPAIR})


def category_family(category: Category) -> Category:
    """The category that stands for `category` when requests are compared: its second-level ancestor."""
    lineage = category.lineage()  # nearest first, root last
    return lineage[-2] if len(lineage) >= 2 else lineage[-1]


def family_ids(family: Category) -> set[int]:
    """Ids of the categories whose family is `family`."""
    if family.parent_id is None:
        return {family.pk}
    return descendant_ids(family.pk)


def _last_link(units, since, until, project, categories):
    """The units' most recent link in the window to a request of the project that a repeat can match."""
    return (
        CaseUnit.objects.filter(
            unit_id__in=units,
            received_at__gte=since,
            received_at__lte=until,
            case__project_id=project,
            case__case_type__in=REPEAT_TYPES,
            case__category_id__in=categories,
            case__merged_into__isnull=True,
        )
        .order_by("-received_at", "-case_id")
        .select_related("case")
        .only("case__id", "case__number", "case__project_id", "case__received_at")[:1]
    )


# Run on every intake of a complaint or repair: compiled once per process (see core.compiled).
_LAST_LINK = CompiledQuery(CaseUnit, _last_link)


def find_repeat_of(
    *, project, case_type: str, category: Category | None, units: Iterable, received_at: datetime
) -> Case | None:
    """The most recent earlier request that a new request with these details repeats, if any."""
    unit_ids = [getattr(u, "pk", u) for u in units]
    if case_type not in REPEAT_TYPES or category is None or not unit_ids or project is None:
        return None
    # The links carry the request's received time (index case_unit_received): only the units' requests
    # of the window are read, not everything a busy unit ever reported.
    link = _LAST_LINK.first(
        units=unit_ids,
        since=received_at - REPEAT_WINDOW,
        until=received_at,
        project=getattr(project, "pk", project),
        categories=family_ids(category_family(category)),
    )
    return link.case if link is not None else None
