"""Full-text search over service requests: descriptions, notes, replies, task plans and reports.

`Case.search_text` holds the tokens of everything written on a case (`guanjia.core.search`), rebuilt
by `refresh_search_text` whenever a service adds text. Personal data stays out: names and phone
numbers are found through the customer search, not here. Internal notes are included, so this
search is for staff only.

Each database indexes the same tokens:

* SQLite: the FTS5 table `case_fts` (rowid = case id) holds a copy of the tokens, written here
  ("insert or replace") rather than by triggers, which SQLite drops whenever a migration rebuilds
  the cases table. A search is `id IN (SELECT rowid FROM case_fts WHERE case_fts MATCH …)`, so
  the scope filters and ORDER BY … LIMIT of the caller's queryset apply as usual.
* PostgreSQL: a GIN index on `case_search_vector(search_text)`, a function that returns
  `to_tsvector('simple', search_text)` (`simple` only lower-cases; the tokens are already words),
  so the index keeps itself in step. The wrapper exists to tell the planner the truth: computing a
  vector row by row is expensive. With the bare `to_tsvector` (a cheap-looking function) and
  ORDER BY id LIMIT 50, PostgreSQL walks the primary key computing vectors until 50 rows match,
  which for a rare or absent word means the whole table (seconds at a million requests). Declared
  costly, it uses the GIN index unless the word is so common that the walk ends early anyway.
  PARALLEL RESTRICTED keeps it from starting workers for that short walk.

Bulk loaders that write `search_text` themselves call `reindex_search` afterwards.
All SQL of the search lives in this module.
"""

from django.db import connections, router
from django.db.models import BooleanField, Expression, F, QuerySet
from django.db.models.expressions import RawSQL

from guanjia.core.search import PREFIX, query_tokens, tokens_for

from .models import Case, CaseEvent, CaseTask

PG_INDEX = "case_search_text_gin"
PG_FUNCTION = "case_search_vector"
# The expression the GIN index is built on; a query must repeat it exactly to use the index.
PG_VECTOR = PG_FUNCTION + "({column})"

SQLITE_CREATE = [
    # ascii: split on ASCII spaces and punctuation only, so every token, Chinese included, stays whole.
    # detail=none / columnsize=0: no positions or lengths, since searches neither rank nor match phrases.
    "CREATE VIRTUAL TABLE IF NOT EXISTS case_fts USING fts5(tokens, tokenize='ascii', detail=none, columnsize=0)",
    "INSERT OR REPLACE INTO case_fts(rowid, tokens) SELECT id, search_text FROM cases_case",
]
SQLITE_DROP = ["DROP TABLE IF EXISTS case_fts"]
PG_CREATE = [
    # plpgsql, because PostgreSQL inlines a one-line SQL function and would forget the cost.
    f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}(tokens text) RETURNS tsvector"
    " LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL RESTRICTED COST 1000"
    " AS $$ BEGIN RETURN to_tsvector('simple'::regconfig, tokens); END $$",
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON cases_case USING gin ({PG_VECTOR.format(column='search_text')})",
]
PG_DROP = [f"DROP INDEX IF EXISTS {PG_INDEX}", f"DROP FUNCTION IF EXISTS {PG_FUNCTION}(text)"]


def create_search_index(connection) -> None:
    """Create the index of the connection's database (used by the migration)."""
    statements = {"sqlite": SQLITE_CREATE, "postgresql": PG_CREATE}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def drop_search_index(connection) -> None:
    statements = {"sqlite": SQLITE_DROP, "postgresql": PG_DROP}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def search_source(case: Case) -> list[str]:
    """The texts of a case that search finds: description, timeline notes (replies, reasons, follow-up
    notes, plans and reports), task titles, unit labels, and the texts of requests merged into it."""
    texts = [case.description]
    texts += CaseEvent.objects.filter(case=case).exclude(note="").order_by("seq").values_list("note", flat=True)
    for title, plan, report in CaseTask.objects.filter(case=case).values_list("title", "plan", "report"):
        texts += [title, plan, report]
    texts += [unit.label for unit in case.units.select_related("building", "entrance")]
    # Already tokens; tokenising them again keeps them (and adds their bigrams).
    texts += Case.objects.filter(merged_into=case).values_list("search_text", flat=True)
    return texts


def refresh_search_text(case: Case) -> str:
    """Rebuild the case's search column and index row. Call it after writing text onto the case."""
    text = tokens_for(*search_source(case))
    case.search_text = text
    Case.objects.filter(pk=case.pk).update(search_text=text)
    index_search_text(case)
    return text


def new_case_search_text(description: str, units) -> str:
    """`search_source` of a request being recorded: nothing but its description and units exists yet."""
    return tokens_for(description, *(unit.label for unit in units))


def index_search_text(case: Case) -> None:
    """Copy the saved case's `search_text` into the SQLite index; PostgreSQL indexes the column itself."""
    connection = connections[router.db_for_write(Case)]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT OR REPLACE INTO case_fts(rowid, tokens) VALUES (%s, %s)", [case.pk, case.search_text]
            )


def reindex_search(case_ids=None, *, using: str | None = None) -> None:
    """Copy `search_text` of the given cases (default: all) into the SQLite index; PostgreSQL needs nothing."""
    connection = connections[using or router.db_for_write(Case)]
    if connection.vendor != "sqlite":
        return
    sql = "INSERT OR REPLACE INTO case_fts(rowid, tokens) SELECT id, search_text FROM cases_case"
    with connection.cursor() as cursor:
        if case_ids is None:
            cursor.execute(sql)
            return
        ids = list(case_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            cursor.execute(sql + " WHERE id IN (" + ", ".join(["%s"] * len(chunk)) + ")", chunk)


def _fts5_query(terms: list[str]) -> str:
    # Every term is quoted, so FTS5 operators typed by the user (AND, NEAR, *, ") are plain text.
    quoted = []
    for term in terms:
        prefix = term.endswith(PREFIX)
        word = term[:-1] if prefix else term
        quoted.append('"' + word.replace('"', '""') + '"' + ("*" if prefix else ""))
    return " AND ".join(quoted)


def _tsquery(terms: list[str]) -> str:
    # Terms hold only letters, digits and Chinese characters; quoting keeps tsquery syntax out anyway.
    quoted = []
    for term in terms:
        prefix = term.endswith(PREFIX)
        word = term[:-1] if prefix else term
        quoted.append("'" + word.replace("\\", "\\\\").replace("'", "''") + "'" + (":*" if prefix else ""))
    return " & ".join(quoted)


class _TextMatches(Expression):
    """`search_text` matches a tsquery, written so that PostgreSQL uses the GIN expression index."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, tsquery: str, column=None):
        super().__init__()
        self.tsquery = tsquery
        self.column = column if column is not None else F("search_text")

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def as_sql(self, compiler, connection):
        column, params = compiler.compile(self.column)
        return f"{PG_VECTOR.format(column=column)} @@ to_tsquery('simple'::regconfig, %s)", [*params, self.tsquery]


# Search results come newest first in the order they were recorded (id), not by received time:
# walking the id order and checking each row against the matches stops after one page, where
# ordering by received time would sort every match (a two-character word matches thousands).
SEARCH_ORDER = ("-id",)


def search_cases(cases: QuerySet, query: str) -> QuerySet:
    """The cases of `cases` (already scoped) whose text contains every term of `query`.

    A query without any word (empty, punctuation) finds nothing. Ordering and slicing stay the caller's.
    """
    terms = query_tokens(query)
    if not terms:
        return cases.none()
    vendor = connections[cases.db].vendor
    if vendor == "sqlite":
        # The user's words reach FTS5 only as a bound parameter, each one quoted (`_fts5_query`).
        matching = RawSQL("SELECT rowid FROM case_fts WHERE case_fts MATCH %s", [_fts5_query(terms)])
        return cases.filter(pk__in=matching)
    if vendor == "postgresql":
        return cases.filter(_TextMatches(_tsquery(terms)))
    # Other databases have no index here: a scan for each term (it may also match inside longer tokens).
    for term in terms:
        word = term[:-1] if term.endswith(PREFIX) else term
        cases = cases.filter(search_text__contains=word)
    return cases
