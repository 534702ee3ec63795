from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_case_at_risk_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["project", "status", "resolution_due"], name="case_project_status_due"),
        ),
    ]
