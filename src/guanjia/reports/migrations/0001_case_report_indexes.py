"""Indexes for the report scans (reports/metrics.py), kept with the reports app.

The closing figures scan the requests closed in a period: without an index on `closed_at` that
is a full scan of cases_case (1,000,000 rows in the benchmark) for every report and dashboard.
Partial indexes (WHERE closed_at IS NOT NULL) leave out the open requests, which are the ones
written most. Follow-ups are counted by the day they were created (the closing). The received
figures use the existing indexes on (received_at) and (project, received_at).

Plain SQL because the models belong to the cases app; `IF NOT EXISTS` and partial indexes are
understood by SQLite and PostgreSQL alike.
"""

from django.db import migrations

INDEXES = {
    "reports_case_closed": "cases_case (closed_at) WHERE closed_at IS NOT NULL",
    "reports_case_project_closed": "cases_case (project_id, closed_at) WHERE closed_at IS NOT NULL",
    "reports_followup_created": "cases_followup (created_at)",
}


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_case_handling_minutes")]

    operations = [
        migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} ON {target}", f"DROP INDEX IF EXISTS {name}")
        for name, target in INDEXES.items()
    ]
