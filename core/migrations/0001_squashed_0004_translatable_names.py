import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The schema of this app as its migrations up to 0004_translatable_names left it, in one migration.

    A database that applied all of them is already here; a new database gets this one instead.
    """

    initial = True

    replaces = [('core', '0001_initial'), ('core', '0002_auditlog'), ('core', '0003_outboxmessage'), ('core', '0004_translatable_names')]

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SystemSetting',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='id')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('key', models.CharField(max_length=100, unique=True, verbose_name='key')),
                ('value', models.JSONField(verbose_name='value')),
                ('description', models.CharField(blank=True, max_length=255, verbose_name='description')),
                ('updated_by_id', models.UUIDField(blank=True, null=True, verbose_name='updated by id')),
            ],
            options={
                'verbose_name': 'system setting',
                'verbose_name_plural': 'system settings',
                'ordering': ['key'],
            },
        ),
        migrations.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', models.UUIDField(primary_key=True, serialize=False, verbose_name='id')),
                ('topic', models.CharField(max_length=64, verbose_name='topic')),
                ('payload', models.JSONField(default=dict, verbose_name='payload')),
                ('created_at', models.DateTimeField(verbose_name='created at')),
                ('relayed_at', models.DateTimeField(blank=True, null=True, verbose_name='relayed at')),
            ],
            options={
                'verbose_name': 'outbox message',
                'verbose_name_plural': 'outbox messages',
                'ordering': ['created_at'],
                'indexes': [models.Index(condition=models.Q(('relayed_at__isnull', True)), fields=['created_at'], name='outbox_pending_idx')],
            },
        ),
        migrations.CreateModel(
            name='AuditLog',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='id')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('action', models.CharField(max_length=64, verbose_name='action')),
                ('object_type', models.CharField(max_length=64, verbose_name='object type')),
                ('object_id', models.CharField(max_length=64, verbose_name='object id')),
                ('organization_id', models.UUIDField(blank=True, null=True, verbose_name='organization id')),
                ('reason', models.TextField(blank=True, verbose_name='reason')),
                ('data', models.JSONField(blank=True, default=dict, verbose_name='data')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='audit_entries', to=settings.AUTH_USER_MODEL, verbose_name='actor')),
            ],
            options={
                'verbose_name': 'audit log entry',
                'verbose_name_plural': 'audit log',
                'ordering': ['-created_at'],
                'indexes': [models.Index(fields=['object_type', 'object_id', '-created_at'], name='audit_object_idx'), models.Index(fields=['organization_id', '-created_at'], name='audit_org_idx')],
            },
        ),
    ]
