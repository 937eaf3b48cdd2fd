import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Adopt the audit log table that accounts created (same columns and indexes), then give it core's name."""

    dependencies = [
        ("core", "0001_initial"),
        ("accounts", "0002_auditlog_moves_to_core"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditLog",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("action", models.CharField(max_length=64)),
                        ("object_type", models.CharField(max_length=64)),
                        ("object_id", models.CharField(max_length=64)),
                        ("organization_id", models.UUIDField(blank=True, null=True)),
                        ("reason", models.TextField(blank=True)),
                        ("data", models.JSONField(blank=True, default=dict)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="audit_entries",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_auditlog",
                        "ordering": ["-created_at"],
                        "verbose_name": "audit log entry",
                        "verbose_name_plural": "audit log",
                        "indexes": [
                            models.Index(
                                fields=["object_type", "object_id", "-created_at"], name="audit_object_idx"
                            ),
                            models.Index(fields=["organization_id", "-created_at"], name="audit_org_idx"),
                        ],
                    },
                ),
            ],
        ),
        migrations.AlterModelTable(name="auditlog", table=None),
    ]
