import accounts.models
import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The schema of this app as its migrations up to 0007_translatable_names left it, in one migration.

    A database that applied all of them is already here; a new database gets this one instead.
    """

    initial = True

    replaces = [('accounts', '0001_initial'), ('accounts', '0002_auditlog_moves_to_core'), ('accounts', '0003_card_payments_and_refunds'), ('accounts', '0003_ledger_transfer_fee'), ('accounts', '0004_merge_20261202_2123'), ('accounts', '0005_ledger_kinds_of_cards_and_transfer_fees'), ('accounts', '0006_user_preferred_language'), ('accounts', '0007_translatable_names')]

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
    ]

    operations = [
        migrations.CreateModel(
            name='User',
            fields=[
                ('password', models.CharField(max_length=128, verbose_name='password')),
                ('last_login', models.DateTimeField(blank=True, null=True, verbose_name='last login')),
                ('is_superuser', models.BooleanField(default=False, help_text='Designates that this user has all permissions without explicitly assigning them.', verbose_name='superuser status')),
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='id')),
                ('email', models.EmailField(max_length=254, unique=True, verbose_name='email')),
                ('full_name', models.CharField(blank=True, max_length=200, verbose_name='full name')),
                ('phone', models.CharField(blank=True, max_length=32, verbose_name='phone')),
                ('credit_balance', models.DecimalField(decimal_places=2, default=0, editable=False, max_digits=10, verbose_name='credit balance')),
                ('is_flagged', models.BooleanField(default=False, help_text='Flagged buyers must pass a one-time-code step-up.', verbose_name='is flagged')),
                ('flag_reason', models.CharField(blank=True, max_length=255, verbose_name='flag reason')),
                ('is_verified', models.BooleanField(default=False, help_text='Email address confirmed with a one-time code.', verbose_name='is verified')),
                ('is_active', models.BooleanField(default=True, verbose_name='is active')),
                ('is_staff', models.BooleanField(default=False, verbose_name='is staff')),
                ('preferences', models.JSONField(blank=True, default=dict, verbose_name='preferences')),
                ('preferred_language', models.CharField(blank=True, default='', max_length=10, verbose_name='preferred language')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('groups', models.ManyToManyField(blank=True, help_text='The groups this user belongs to. A user will get all permissions granted to each of their groups.', related_name='user_set', related_query_name='user', to='auth.group', verbose_name='groups')),
                ('user_permissions', models.ManyToManyField(blank=True, help_text='Specific permissions for this user.', related_name='user_set', related_query_name='user', to='auth.permission', verbose_name='user permissions')),
            ],
            options={
                'verbose_name': 'user',
                'verbose_name_plural': 'users',
                'ordering': ['email'],
            },
            managers=[
                ('objects', accounts.models.UserManager()),
            ],
        ),
        migrations.CreateModel(
            name='LedgerEntry',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='id')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('kind', models.CharField(choices=[('TOPUP', 'Top-up'), ('PURCHASE', 'Purchase'), ('PURCHASE_REFUND', 'Purchase refund'), ('TRANSFER_DEBIT', 'Transfer payment'), ('TRANSFER_CREDIT', 'Transfer proceeds'), ('TRANSFER_FEE', 'Transfer platform fee'), ('TRANSFER_FEE_REFUND', 'Transfer platform fee returned'), ('TRANSFER_REVERSAL_DEBIT', 'Transfer reversal (debit)'), ('TRANSFER_REVERSAL_CREDIT', 'Transfer reversal (credit)'), ('RESALE_DEBIT', 'Resale purchase'), ('RESALE_CREDIT', 'Resale proceeds'), ('RESALE_FEE', 'Resale platform fee'), ('RESALE_REFUND', 'Resale purchase refund'), ('ADJUSTMENT', 'Staff adjustment'), ('CARD_REFUND', 'Refund to card'), ('CARD_REFUND_REVERSAL', 'Refund to card refused (credits restored)')], max_length=32, verbose_name='kind')),
                ('amount', models.DecimalField(decimal_places=2, help_text='Signed: credits are positive.', max_digits=10, verbose_name='amount')),
                ('balance_after', models.DecimalField(decimal_places=2, max_digits=10, verbose_name='balance after')),
                ('reference', models.CharField(help_text='The order, transfer, listing or top-up it belongs to.', max_length=100, verbose_name='reference')),
                ('memo', models.CharField(blank=True, max_length=255, verbose_name='memo')),
                ('actor_id', models.UUIDField(blank=True, help_text='Staff member behind an adjustment.', null=True, verbose_name='actor id')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='ledger_entries', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'ledger entry',
                'verbose_name_plural': 'ledger entries',
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='LoginAttempt',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='id')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('email', models.CharField(max_length=254, verbose_name='email')),
                ('ip_address', models.GenericIPAddressField(blank=True, null=True, verbose_name='ip address')),
            ],
            options={
                'verbose_name': 'login attempt',
                'verbose_name_plural': 'login attempts',
                'indexes': [models.Index(fields=['email', 'created_at'], name='loginattempt_email_idx'), models.Index(fields=['ip_address', 'created_at'], name='loginattempt_ip_idx')],
            },
        ),
        migrations.CreateModel(
            name='OneTimeCode',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='id')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('purpose', models.CharField(choices=[('VERIFY_EMAIL', 'Verify email'), ('CHECKOUT_STEP_UP', 'Checkout step-up'), ('TRANSFER_SENDER', 'Confirm transfer (sender)'), ('TRANSFER_RECIPIENT', 'Confirm transfer (recipient)'), ('PASSWORD_RESET', 'Password reset')], max_length=32, verbose_name='purpose')),
                ('object_id', models.UUIDField(blank=True, null=True, verbose_name='object id')),
                ('code_hash', models.CharField(max_length=128, verbose_name='code hash')),
                ('expires_at', models.DateTimeField(verbose_name='expires at')),
                ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                ('max_attempts', models.PositiveSmallIntegerField(default=5, verbose_name='max attempts')),
                ('consumed_at', models.DateTimeField(blank=True, null=True, verbose_name='consumed at')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='one_time_codes', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'one time code',
                'verbose_name_plural': 'one time codes',
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='OrganizationMembership',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='id')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('organization_id', models.UUIDField(db_index=True, verbose_name='organization id')),
                ('role', models.CharField(choices=[('OWNER', 'Owner'), ('MANAGER', 'Manager'), ('BOX_OFFICE', 'Box office'), ('GATE', 'Gate')], max_length=16, verbose_name='role')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'organization membership',
                'verbose_name_plural': 'organization memberships',
                'ordering': ['organization_id', 'role'],
            },
        ),
        migrations.CreateModel(
            name='PaymentEvent',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='id')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('provider', models.CharField(max_length=32, verbose_name='provider')),
                ('event_id', models.CharField(max_length=255, verbose_name='event id')),
                ('type', models.CharField(max_length=100, verbose_name='type')),
            ],
            options={
                'verbose_name': 'payment event',
                'verbose_name_plural': 'payment events',
                'ordering': ['-created_at'],
                'constraints': [models.UniqueConstraint(fields=('provider', 'event_id'), name='paymentevent_once_per_provider')],
            },
        ),
        migrations.CreateModel(
            name='TopUp',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='id')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=10, verbose_name='amount')),
                ('provider', models.CharField(default='test', max_length=32, verbose_name='provider')),
                ('provider_reference', models.CharField(max_length=100, unique=True, verbose_name='provider reference')),
                ('status', models.CharField(choices=[('PENDING', 'Pending'), ('SUCCEEDED', 'Succeeded'), ('FAILED', 'Failed')], default='PENDING', max_length=16, verbose_name='status')),
                ('completed_at', models.DateTimeField(blank=True, null=True, verbose_name='completed at')),
                ('payment_intent', models.CharField(blank=True, max_length=100, verbose_name='payment intent')),
                ('refunded_amount', models.DecimalField(decimal_places=2, default=0, max_digits=10, verbose_name='refunded amount')),
                ('order_id', models.UUIDField(blank=True, null=True, verbose_name='order id')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='topups', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'top up',
                'verbose_name_plural': 'top ups',
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='CardRefund',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='id')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=10, verbose_name='amount')),
                ('status', models.CharField(choices=[('PENDING', 'Pending'), ('SUCCEEDED', 'Succeeded'), ('FAILED', 'Failed')], default='PENDING', max_length=16, verbose_name='status')),
                ('provider_refund_id', models.CharField(blank=True, max_length=100, verbose_name='provider refund id')),
                ('failure_reason', models.CharField(blank=True, max_length=255, verbose_name='failure reason')),
                ('actor_id', models.UUIDField(blank=True, help_text='Staff member who sent it back, if not the buyer.', null=True, verbose_name='actor id')),
                ('request_reference', models.CharField(help_text='The request it belongs to (idempotency).', max_length=100, verbose_name='request reference')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='card_refunds', to=settings.AUTH_USER_MODEL, verbose_name='user')),
                ('topup', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='card_refunds', to='accounts.topup', verbose_name='topup')),
            ],
            options={
                'verbose_name': 'card refund',
                'verbose_name_plural': 'card refunds',
                'ordering': ['-created_at'],
            },
        ),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.CheckConstraint(condition=models.Q(('credit_balance__gte', 0)), name='user_balance_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('email'), name='user_email_ci_unique'),
        ),
        migrations.AddIndex(
            model_name='ledgerentry',
            index=models.Index(fields=['user', '-created_at'], name='ledger_user_recent_idx'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.UniqueConstraint(fields=('kind', 'reference'), name='ledger_kind_reference_unique'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(('balance_after__gte', 0)), name='ledger_balance_after_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(('amount', 0), _negated=True), name='ledger_amount_not_zero'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['TOPUP', 'PURCHASE', 'PURCHASE_REFUND', 'TRANSFER_DEBIT', 'TRANSFER_CREDIT', 'TRANSFER_FEE', 'TRANSFER_FEE_REFUND', 'TRANSFER_REVERSAL_DEBIT', 'TRANSFER_REVERSAL_CREDIT', 'RESALE_DEBIT', 'RESALE_CREDIT', 'RESALE_FEE', 'RESALE_REFUND', 'ADJUSTMENT', 'CARD_REFUND', 'CARD_REFUND_REVERSAL'])), name='ledger_kind_valid'),
        ),
        migrations.AddIndex(
            model_name='onetimecode',
            index=models.Index(condition=models.Q(('consumed_at__isnull', True)), fields=['user', 'purpose', 'object_id'], name='otp_open_lookup_idx'),
        ),
        migrations.AddConstraint(
            model_name='onetimecode',
            constraint=models.CheckConstraint(condition=models.Q(('purpose__in', ['VERIFY_EMAIL', 'CHECKOUT_STEP_UP', 'TRANSFER_SENDER', 'TRANSFER_RECIPIENT', 'PASSWORD_RESET'])), name='otp_purpose_valid'),
        ),
        migrations.AddConstraint(
            model_name='onetimecode',
            constraint=models.CheckConstraint(condition=models.Q(('attempts__lte', models.F('max_attempts'))), name='otp_attempts_capped'),
        ),
        migrations.AddConstraint(
            model_name='organizationmembership',
            constraint=models.UniqueConstraint(fields=('user', 'organization_id'), name='membership_user_org_unique'),
        ),
        migrations.AddConstraint(
            model_name='organizationmembership',
            constraint=models.CheckConstraint(condition=models.Q(('role__in', ['OWNER', 'MANAGER', 'BOX_OFFICE', 'GATE'])), name='membership_role_valid'),
        ),
        migrations.AddIndex(
            model_name='topup',
            index=models.Index(fields=['user', 'status', '-created_at'], name='topup_user_status_idx'),
        ),
        migrations.AddConstraint(
            model_name='topup',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='topup_amount_positive'),
        ),
        migrations.AddConstraint(
            model_name='topup',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['PENDING', 'SUCCEEDED', 'FAILED'])), name='topup_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='topup',
            constraint=models.CheckConstraint(condition=models.Q(('refunded_amount__gte', 0), ('refunded_amount__lte', models.F('amount'))), name='topup_refunded_within_amount'),
        ),
        migrations.AddConstraint(
            model_name='cardrefund',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='cardrefund_amount_positive'),
        ),
        migrations.AddConstraint(
            model_name='cardrefund',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['PENDING', 'SUCCEEDED', 'FAILED'])), name='cardrefund_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='cardrefund',
            constraint=models.UniqueConstraint(fields=('request_reference', 'topup'), name='cardrefund_once_per_request'),
        ),
    ]
