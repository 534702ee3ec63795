"""The link between requests and units becomes a model of its own (same table, same rows) and gains
the request's received time, indexed by unit, for the repeat-complaint check."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_case_project_status_due"),
        ("estate", "0001_initial"),
    ]

    operations = [
        # The table Django made for the many-to-many field, described as it is: nothing changes in the database.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="CaseUnit",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("case", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="cases.case")),
                        ("unit", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="estate.unit")),
                    ],
                    options={"db_table": "cases_case_units", "unique_together": {("case", "unit")}},
                ),
                migrations.AlterField(
                    model_name="case",
                    name="units",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="cases",
                        through="cases.CaseUnit",
                        to="estate.unit",
                        verbose_name="units",
                    ),
                ),
            ],
        ),
        migrations.AddField(model_name="caseunit", name="received_at", field=models.DateTimeField(null=True)),
        migrations.RunSQL(
            "UPDATE cases_case_units SET received_at = "
            "(SELECT received_at FROM cases_case WHERE cases_case.id = cases_case_units.case_id)",
            migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name="caseunit",
            index=models.Index(fields=["unit", "received_at", "case"], name="case_unit_received"),
        ),
        migrations.AlterField(
            model_name="caseunit",
            name="unit",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to="estate.unit"),
        ),
    ]
