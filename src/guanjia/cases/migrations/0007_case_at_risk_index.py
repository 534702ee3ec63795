from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_case_noticed_at"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(
                    ("risk_major", True),
                    ("risk_group", True),
                    ("risk_media", True),
                    ("risk_government", True),
                    _connector="OR",
                ),
                fields=["project", "status", "-received_at", "-id"],
                name="case_at_risk_received",
            ),
        ),
    ]
