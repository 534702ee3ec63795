"""The default category tree and SLA policies, as seeded by migration 0002.

`ensure_defaults()` puts them back into an empty database: a database flushed by a
transactional test, or one created with `migrate --run-syncdb`, has lost the seeded rows.
"""

from importlib import import_module

from django.apps import apps

_SEED = "guanjia.cases.migrations.0002_default_categories_and_sla"


def ensure_defaults() -> None:
    """Seed the default categories and policies when there are none; otherwise change nothing."""
    Category = apps.get_model("cases", "Category")
    SlaPolicy = apps.get_model("cases", "SlaPolicy")
    if Category.objects.exists() or SlaPolicy.objects.exists():
        return
    import_module(_SEED).seed(apps, None)
