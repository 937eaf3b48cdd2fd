import django.db.models.manager
import django.utils.timezone
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):
    """The schema of this app as its migrations up to 0008_translatable_names left it, in one migration.

    A database that applied all of them is already here; a new database gets this one instead.
    """

    initial = True

    replaces = [('inventory', '0001_initial'), ('inventory', '0002_seat_live_availability_covering_index'), ('inventory', '0003_seat_organization'), ('inventory', '0004_seat_next_price'), ('inventory', '0005_seat_kept_for'), ('inventory', '0006_printed_tickets'), ('inventory', '0007_seat_recent_changes_idx'), ('inventory', '0008_translatable_names')]

    dependencies = [
    ]

    operations = [
        migrations.CreateModel(
            name='EntryLog',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='id')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('seat_id', models.UUIDField(blank=True, null=True, verbose_name='seat id')),
                ('event_id', models.UUIDField(help_text='The event the gate was scanning for.', verbose_name='event id')),
                ('organization_id', models.UUIDField(blank=True, null=True, verbose_name='organization id')),
                ('staff_id', models.UUIDField(verbose_name='staff id')),
                ('gate', models.CharField(max_length=64, verbose_name='gate')),
                ('result', models.CharField(choices=[('SUCCESS', 'Admitted'), ('DUPLICATE', 'Already checked in'), ('WRONG_EVENT', 'Ticket for another event'), ('NOT_PAID', 'Not a paid ticket'), ('EXPIRED', 'Code expired'), ('INVALID', 'Invalid code'), ('NOT_FOUND', 'No such ticket'), ('REVOKED', 'Code revoked')], max_length=16, verbose_name='result')),
                ('holder_id', models.UUIDField(blank=True, null=True, verbose_name='holder id')),
                ('token_fingerprint', models.CharField(blank=True, help_text='SHA-256 prefix of the scanned code.', max_length=64, verbose_name='token fingerprint')),
                ('detail', models.CharField(blank=True, max_length=255, verbose_name='detail')),
            ],
            options={
                'verbose_name': 'entry log',
                'verbose_name_plural': 'entry logs',
                'ordering': ['-created_at'],
                'indexes': [models.Index(fields=['event_id', '-created_at'], name='entrylog_event_recent_idx'), models.Index(fields=['seat_id'], name='entrylog_seat_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('result__in', ['SUCCESS', 'DUPLICATE', 'WRONG_EVENT', 'NOT_PAID', 'EXPIRED', 'INVALID', 'NOT_FOUND', 'REVOKED'])), name='entrylog_result_valid'), models.UniqueConstraint(condition=models.Q(('result', 'SUCCESS')), fields=('seat_id',), name='entrylog_one_success')],
            },
        ),
        migrations.CreateModel(
            name='Seat',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='id')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('deleted_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='deleted at')),
                ('event_id', models.UUIDField(verbose_name='event id')),
                ('organization_id', models.UUIDField(blank=True, help_text="The event's organization (staff scoping).", null=True, verbose_name='organization id')),
                ('section_id', models.UUIDField(verbose_name='section id')),
                ('tier_id', models.UUIDField(blank=True, null=True, verbose_name='tier id')),
                ('row_label', models.CharField(max_length=16, verbose_name='row label')),
                ('number', models.PositiveIntegerField(verbose_name='number')),
                ('x', models.IntegerField(default=0, verbose_name='x')),
                ('y', models.IntegerField(default=0, verbose_name='y')),
                ('is_accessible', models.BooleanField(default=False, verbose_name='is accessible')),
                ('is_general_admission', models.BooleanField(default=False, verbose_name='is general admission')),
                ('price', models.DecimalField(decimal_places=2, help_text='What this place costs now (or what it was held or sold at).', max_digits=10, verbose_name='price')),
                ('next_price', models.DecimalField(blank=True, decimal_places=2, max_digits=10, null=True, verbose_name='next price')),
                ('status', models.CharField(choices=[('AVAILABLE', 'Available'), ('HELD', 'Held'), ('SOLD', 'Sold'), ('CHECKED_IN', 'Checked in'), ('LISTED', 'Listed for resale'), ('BLOCKED', 'Blocked')], default='AVAILABLE', max_length=16, verbose_name='status')),
                ('held_by_id', models.UUIDField(blank=True, null=True, verbose_name='held by id')),
                ('hold_expires_at', models.DateTimeField(blank=True, null=True, verbose_name='hold expires at')),
                ('owner_id', models.UUIDField(blank=True, null=True, verbose_name='owner id')),
                ('order_id', models.UUIDField(blank=True, null=True, verbose_name='order id')),
                ('qr_version', models.PositiveIntegerField(default=1, verbose_name='qr version')),
                ('checked_in_at', models.DateTimeField(blank=True, null=True, verbose_name='checked in at')),
                ('print_version', models.PositiveIntegerField(db_default=0, default=0, verbose_name='print version')),
                ('kept_for', models.CharField(blank=True, db_default='', help_text='Why staff keep this place off sale (production, cameras, VIP...): released by that name.', max_length=64, verbose_name='kept for')),
            ],
            options={
                'verbose_name': 'seat',
                'verbose_name_plural': 'seats',
                'ordering': ['event_id', 'section_id', 'row_label', 'number'],
                'indexes': [models.Index(fields=['event_id', 'section_id', 'status'], name='seat_event_section_status_idx'), models.Index(condition=models.Q(('status', 'HELD')), fields=['held_by_id'], name='seat_holds_by_buyer_idx'), models.Index(condition=models.Q(('owner_id__isnull', False)), fields=['owner_id'], name='seat_owner_idx'), models.Index(condition=models.Q(('order_id__isnull', False)), fields=['order_id'], name='seat_order_idx'), models.Index(condition=models.Q(('status', 'BLOCKED')), fields=['event_id', 'kept_for'], name='seat_blocked_by_event_idx'), models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['event_id', 'updated_at'], name='seat_recent_changes_idx'), models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['event_id', 'section_id', 'status', 'hold_expires_at'], include=('tier_id', 'price'), name='seat_live_availability_cov_idx')],
                'constraints': [models.UniqueConstraint(fields=('event_id', 'section_id', 'row_label', 'number'), name='seat_unique_place_per_event'), models.CheckConstraint(condition=models.Q(('status__in', ['AVAILABLE', 'HELD', 'SOLD', 'CHECKED_IN', 'LISTED', 'BLOCKED'])), name='seat_status_valid'), models.CheckConstraint(condition=models.Q(('price__gte', 0)), name='seat_price_not_negative'), models.CheckConstraint(condition=models.Q(('next_price__isnull', True), ('next_price__gte', 0), _connector='OR'), name='seat_next_price_not_negative'), models.CheckConstraint(condition=models.Q(models.Q(('held_by_id__isnull', False), ('hold_expires_at__isnull', False), ('status', 'HELD')), models.Q(models.Q(('status', 'HELD'), _negated=True), ('held_by_id__isnull', True), ('hold_expires_at__isnull', True)), _connector='OR'), name='seat_hold_fields_consistent'), models.CheckConstraint(condition=models.Q(models.Q(('order_id__isnull', False), ('owner_id__isnull', False), ('status__in', ['SOLD', 'CHECKED_IN', 'LISTED'])), models.Q(models.Q(('status__in', ['SOLD', 'CHECKED_IN', 'LISTED']), _negated=True), ('owner_id__isnull', True)), _connector='OR'), name='seat_ticket_has_owner'), models.CheckConstraint(condition=models.Q(models.Q(('checked_in_at__isnull', False), ('status', 'CHECKED_IN')), models.Q(('status', 'CHECKED_IN'), _negated=True), _connector='OR'), name='seat_checked_in_has_time'), models.CheckConstraint(condition=models.Q(('kept_for', ''), ('status', 'BLOCKED'), _connector='OR'), name='seat_kept_only_when_blocked')],
            },
            managers=[
                ('objects', django.db.models.manager.Manager()),
                ('all_objects', django.db.models.manager.Manager()),
            ],
        ),
    ]
