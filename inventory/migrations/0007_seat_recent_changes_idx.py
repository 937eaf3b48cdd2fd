from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    """The live-changes feed's index, built without locking the seats against holds and sales (a live seat table
    keeps selling while it is built)."""

    atomic = False

    dependencies = [
        ("inventory", "0006_printed_tickets"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="seat",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True)),
                fields=["event_id", "updated_at"],
                name="seat_recent_changes_idx",
            ),
        ),
    ]
