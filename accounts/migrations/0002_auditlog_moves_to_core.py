from django.db import migrations


class Migration(migrations.Migration):
    """The audit log belongs to the ground floor (core) now; its table is kept and renamed by core 0002."""

    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="AuditLog")]),
    ]
