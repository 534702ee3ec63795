"""PostgreSQL statistics on how a request's people go with its project.

Owners, handlers and departments work in one project, so "owner 22 in project 1" matches almost
all of owner 22's requests. The planner assumes the columns independent, guesses a quarter of the
rows and reads all of them through a bitmap instead of walking the list's index (a specialist's
queue count at a million requests: 103 ms against 19 ms). SQLite has no such statistics.
"""

from django.db import migrations

NAME = "case_people_by_project"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {NAME} (dependencies, mcv) "
            "ON project_id, owner_id, assignee_id, department_id FROM cases_case"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("cases", "0013_list_partial_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
