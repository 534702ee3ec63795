"""Full-text search index of requests: an FTS5 table on SQLite, a GIN expression index on PostgreSQL.

The SQL lives in `guanjia.cases.search`; see its docstring for why each database does it this way.
"""

from django.db import migrations


def tokenise_existing(apps, schema_editor):
    """Requests recorded before search existed hold their raw description in `search_text`."""
    from guanjia.core.search import tokens_for

    Case = apps.get_model("cases", "Case")
    CaseEvent = apps.get_model("cases", "CaseEvent")
    db = schema_editor.connection.alias
    batch = []
    for case in Case.objects.using(db).only("id", "description").iterator(chunk_size=1000):
        notes = CaseEvent.objects.using(db).filter(case_id=case.pk).exclude(note="").values_list("note", flat=True)
        case.search_text = tokens_for(case.description, *notes)
        batch.append(case)
        if len(batch) >= 1000:
            Case.objects.using(db).bulk_update(batch, ["search_text"])
            batch = []
    if batch:
        Case.objects.using(db).bulk_update(batch, ["search_text"])


def create_index(apps, schema_editor):
    from guanjia.cases.search import create_search_index

    create_search_index(schema_editor.connection)


def drop_index(apps, schema_editor):
    from guanjia.cases.search import drop_search_index

    drop_search_index(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_default_categories_and_sla")]

    operations = [
        migrations.RunPython(tokenise_existing, migrations.RunPython.noop),
        migrations.RunPython(create_index, drop_index),
    ]
