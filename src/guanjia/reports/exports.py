"""Any filtered list of requests as an xlsx download that streams, so a million rows never sit in memory.

The list is the workbench's (`cases.filters.CaseFilterSet`, same query string) or the API's
(`GET /api/v1/reports/cases.xlsx` with the query parameters of `GET /api/v1/cases`); either way the
rows come from `cases.queries.cases_for`, so an export holds exactly what its reader may open.

Memory stays flat because nothing holds more than one chunk of rows:

* the query runs as `values_list(...).iterator(chunk_size=CHUNK)` (a server-side cursor on
  PostgreSQL), so neither model instances nor the whole result are built;
* the units of a chunk are fetched in one query per chunk (a request may have several);
* openpyxl's write-only workbook appends each row to a temporary file on disk and writes strings
  inline, without a shared-strings table;
* the finished workbook is read back and sent in `SEND_BYTES` pieces.

A zip archive cannot be sent before its parts are written, so the download starts once the rows
are on disk; the generator runs inside the response, after the view has returned.
"""

from __future__ import annotations

import logging
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from urllib.parse import quote

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.cases.choices import CaseStatus, CaseType, Channel, Severity, SlaState
from guanjia.cases.models import Case, Category
from guanjia.core.db_router import replica_iter
from guanjia.core.xlsx import write_workbook

# The workbench's own rule for showing phones, so the file masks exactly what the list masks.
from guanjia.privacy.masking import phone_shower

logger = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 2000
SEND_BYTES = 256 * 1024

# The columns read from the database, in the order of `values_list`.
_FIELDS = (
    "pk",
    "number",
    "received_at",
    "project__name",
    "case_type",
    "category_id",
    "channel",
    "severity",
    "status",
    "party__name",
    "caller_name",
    "party__phone",
    "caller_phone",
    "description",
    "department__name",
    "assignee__display_name",
    "assignee__username",
    "owner__display_name",
    "owner__username",
    "resolution_due",
    "closed_at",
    "sla_state",
)


def headers() -> list[str]:
    return [
        _("Request number"),
        _("Received at"),
        _("Project"),
        _("Type"),
        _("Category"),
        _("Channel"),
        _("Severity"),
        _("Status"),
        _("Units"),
        _("Customer"),
        _("Phone"),
        _("Description"),
        _("Department"),
        _("Assignee"),
        _("First-contact owner"),
        _("Resolve by"),
        _("Closed at"),
        _("SLA state"),
    ]


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _labels(choices) -> dict[str, str]:
    return {value: str(label) for value, label in choices.choices}


def _category_paths() -> dict[int, str]:
    """Every category's path, read once: the tree is small and a join per level is not needed."""
    nodes = {c.pk: (c.name, c.parent_id) for c in Category.objects.only("id", "name", "parent_id")}
    paths = {}
    for pk in nodes:
        names, node, seen = [], pk, set()
        while node in nodes and node not in seen:
            seen.add(node)
            names.append(nodes[node][0])
            node = nodes[node][1]
        paths[pk] = " / ".join(reversed(names))
    return paths


def _unit_labels(case_ids: list[int]) -> dict[int, str]:
    """3栋2单元1502 of every unit of these requests, in one query."""
    links = (
        Case.units.through.objects.filter(case_id__in=case_ids)
        .order_by("case_id", "unit_id")
        .values_list("case_id", "unit__building__name", "unit__entrance__name", "unit__number")
    )
    labels: dict[int, list[str]] = defaultdict(list)
    for case_id, building, entrance, number in links:
        labels[case_id].append(f"{building}{entrance or ''}{number}")
    return {case_id: "、".join(names) for case_id, names in labels.items()}


def case_rows(cases: QuerySet, user, *, chunk_size: int = CHUNK) -> Iterator[list]:
    """The cells of each request of `cases` (already scoped and filtered), as the xlsx shows them."""
    show_phone = phone_shower(user)
    categories = _category_paths()
    types, channels = _labels(CaseType), _labels(Channel)
    severities, statuses, sla = _labels(Severity), _labels(CaseStatus), _labels(SlaState)
    # The list's select_related/prefetch_related are for pages of instances; here only columns count.
    rows = cases.select_related(None).prefetch_related(None).values_list(*_FIELDS).iterator(chunk_size=chunk_size)
    chunk: list[tuple] = []

    def flush() -> Iterator[list]:
        units = _unit_labels([row[0] for row in chunk])
        for (
            pk,
            number,
            received_at,
            project,
            case_type,
            category_id,
            channel,
            severity,
            status,
            party_name,
            caller_name,
            party_phone,
            caller_phone,
            description,
            department,
            assignee_name,
            assignee_login,
            owner_name,
            owner_login,
            resolution_due,
            closed_at,
            sla_state,
        ) in chunk:
            yield [
                number,
                _local(received_at),
                project,
                types.get(case_type, case_type),
                categories.get(category_id, ""),
                channels.get(channel, channel),
                severities.get(severity, severity),
                statuses.get(status, status),
                units.get(pk, ""),
                party_name or caller_name,
                # The list shows the customer's phone when there is a customer, else the caller's.
                show_phone(party_phone if party_name is not None else caller_phone),
                description,
                department or "",
                assignee_name or assignee_login or "",
                owner_name or owner_login or "",
                _local(resolution_due),
                _local(closed_at),
                sla.get(sla_state, sla_state),
            ]

    for row in rows:
        chunk.append(row)
        if len(chunk) >= chunk_size:
            yield from flush()
            chunk = []
    if chunk:
        yield from flush()


def stream_workbook(
    sheet_title: str, header: list[str], rows: Iterable[list], on_written: Callable[[int], object] | None = None
) -> Iterator[bytes]:
    """Write the workbook to a temporary file, then hand it out in pieces; the file goes when done.

    `on_written(row_count)` runs once the rows are on disk and before the first piece is sent.
    """
    with tempfile.TemporaryFile(suffix=".xlsx") as spool:
        count = write_workbook(spool, sheet_title, header, rows)
        if on_written is not None:
            on_written(count)
        spool.seek(0)
        while piece := spool.read(SEND_BYTES):
            yield piece


def export_name(title: str) -> str:
    return f"{title}-{timezone.localtime():%Y%m%d-%H%M}.xlsx"


def cases_xlsx_response(user, cases: QuerySet, filters: dict, *, request=None) -> StreamingHttpResponse:
    """The download of `cases` (scoped and filtered by the caller); the export is logged, as PIPL asks:
    in the personal-data access log (`guanjia.privacy`) with its filters and row count, written after
    the workbook is built and before its first byte leaves (if that fails, nothing is sent)."""
    from guanjia.privacy.services import record_export

    # The log names the filters only: their values (a searched name or phone) stay in the access log.
    logger.info(
        "case export by %s (id %s), filters %s",
        user.username,
        user.pk,
        sorted(k for k, v in filters.items() if v not in (None, "", [])),
    )
    title = _("Service requests")

    def log(count: int) -> None:
        record_export(user, title=title, filters=filters, row_count=count, request=request)

    # The rows are read after the view has returned, from the read replica when there is one.
    rows = replica_iter(stream_workbook(title, headers(), case_rows(cases, user), on_written=log))
    response = StreamingHttpResponse(rows, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(export_name(title))}"
    # Proxies must not hold the whole file back, nor cache personal data.
    response["X-Accel-Buffering"] = "no"
    response["Cache-Control"] = "private, no-store"
    return response
