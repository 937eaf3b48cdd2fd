import django.db.models.deletion
import django.db.models.manager
import django.utils.timezone
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):
    """The schema of this app as its migrations up to 0004_translatable_names left it, in one migration.

    A database that applied all of them is already here; a new database gets this one instead.
    """

    initial = True

    replaces = [('events', '0001_initial'), ('events', '0002_event_waiting_room'), ('events', '0003_venue_layout'), ('events', '0004_translatable_names')]

    dependencies = [
    ]

    operations = [
        migrations.CreateModel(
            name='Section',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='id')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('deleted_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='deleted at')),
                ('name', models.CharField(max_length=100, verbose_name='name')),
                ('kind', models.CharField(choices=[('SEATED', 'Seated'), ('GENERAL', 'General admission')], default='SEATED', max_length=8, verbose_name='kind')),
                ('capacity', models.PositiveIntegerField(default=0, help_text='Seats in the layout, or places for general admission.', verbose_name='capacity')),
                ('layout', models.JSONField(blank=True, default=dict, verbose_name='layout')),
                ('map_x', models.IntegerField(default=0, verbose_name='map x')),
                ('map_y', models.IntegerField(default=0, verbose_name='map y')),
                ('map_rotation', models.SmallIntegerField(default=0, verbose_name='map rotation')),
                ('map_shape', models.CharField(choices=[('RECT', 'Straight rows'), ('ARC', 'Curved rows')], default='RECT', max_length=8, verbose_name='map shape')),
                ('map_arc_radius', models.PositiveIntegerField(default=0, verbose_name='map arc radius')),
                ('map_width', models.PositiveIntegerField(default=0, verbose_name='map width')),
                ('map_height', models.PositiveIntegerField(default=0, verbose_name='map height')),
                ('sort_order', models.PositiveIntegerField(default=0, verbose_name='sort order')),
            ],
            options={
                'verbose_name': 'section',
                'verbose_name_plural': 'sections',
                'ordering': ['venue', 'sort_order', 'name'],
            },
            managers=[
                ('objects', django.db.models.manager.Manager()),
                ('all_objects', django.db.models.manager.Manager()),
            ],
        ),
        migrations.CreateModel(
            name='Organization',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='id')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('deleted_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='deleted at')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('slug', models.SlugField(max_length=80, verbose_name='slug')),
            ],
            options={
                'verbose_name': 'organization',
                'verbose_name_plural': 'organizations',
                'ordering': ['name'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('deleted_at__isnull', True)), fields=('slug',), name='org_slug_unique_alive')],
            },
            managers=[
                ('objects', django.db.models.manager.Manager()),
                ('all_objects', django.db.models.manager.Manager()),
            ],
        ),
        migrations.CreateModel(
            name='Event',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='id')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('deleted_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='deleted at')),
                ('title', models.CharField(max_length=200, verbose_name='title')),
                ('slug', models.SlugField(max_length=220, verbose_name='slug')),
                ('description', models.TextField(blank=True, verbose_name='description')),
                ('starts_at', models.DateTimeField(verbose_name='starts at')),
                ('doors_at', models.DateTimeField(blank=True, null=True, verbose_name='doors at')),
                ('ends_at', models.DateTimeField(blank=True, null=True, verbose_name='ends at')),
                ('status', models.CharField(choices=[('DRAFT', 'Draft'), ('PUBLISHED', 'Published'), ('CANCELLED', 'Cancelled'), ('ENDED', 'Ended')], default='DRAFT', max_length=16, verbose_name='status')),
                ('sales_start', models.DateTimeField(blank=True, null=True, verbose_name='sales start')),
                ('sales_end', models.DateTimeField(blank=True, null=True, verbose_name='sales end')),
                ('selection_mode', models.CharField(choices=[('SEATMAP', 'Pick seats on the map'), ('BEST_AVAILABLE', 'Best available')], default='SEATMAP', max_length=16, verbose_name='selection mode')),
                ('published_at', models.DateTimeField(blank=True, null=True, verbose_name='published at')),
                ('cancelled_at', models.DateTimeField(blank=True, null=True, verbose_name='cancelled at')),
                ('inventory_status', models.CharField(choices=[('NONE', 'Not created'), ('BUILDING', 'Being created'), ('READY', 'Created')], default='NONE', max_length=16, verbose_name='inventory status')),
                ('inventory_created', models.PositiveIntegerField(default=0, verbose_name='inventory created')),
                ('inventory_total', models.PositiveIntegerField(default=0, verbose_name='inventory total')),
                ('refunds_done', models.PositiveIntegerField(default=0, verbose_name='refunds done')),
                ('refunds_total', models.PositiveIntegerField(default=0, verbose_name='refunds total')),
                ('waiting_room', models.BooleanField(db_default=False, default=False, verbose_name='waiting room')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='events.organization', verbose_name='organization')),
            ],
            options={
                'verbose_name': 'event',
                'verbose_name_plural': 'events',
                'ordering': ['starts_at'],
            },
            managers=[
                ('objects', django.db.models.manager.Manager()),
                ('all_objects', django.db.models.manager.Manager()),
            ],
        ),
        migrations.CreateModel(
            name='PriceTier',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='id')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('name', models.CharField(max_length=100, verbose_name='name')),
                ('price', models.DecimalField(decimal_places=2, max_digits=10, verbose_name='price')),
                ('colour', models.CharField(default='#3b82f6', help_text='Seat-map colour, #rrggbb.', max_length=7, verbose_name='colour')),
                ('sort_order', models.PositiveIntegerField(default=0, verbose_name='sort order')),
                ('event', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tiers', to='events.event', verbose_name='event')),
            ],
            options={
                'verbose_name': 'price tier',
                'verbose_name_plural': 'price tiers',
                'ordering': ['event', 'sort_order', '-price'],
            },
        ),
        migrations.CreateModel(
            name='EventSection',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='id')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('capacity_override', models.PositiveIntegerField(blank=True, null=True, verbose_name='capacity override')),
                ('is_active', models.BooleanField(default=True, verbose_name='is active')),
                ('event', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='event_sections', to='events.event', verbose_name='event')),
                ('tier', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='event_sections', to='events.pricetier', verbose_name='tier')),
                ('section', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='event_sections', to='events.section', verbose_name='section')),
            ],
            options={
                'verbose_name': 'event section',
                'verbose_name_plural': 'event sections',
                'ordering': ['event', 'section__sort_order'],
            },
        ),
        migrations.CreateModel(
            name='Venue',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='id')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('deleted_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='deleted at')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('address', models.CharField(blank=True, max_length=255, verbose_name='address')),
                ('city', models.CharField(blank=True, max_length=100, verbose_name='city')),
                ('timezone', models.CharField(default='UTC', max_length=64, verbose_name='timezone')),
                ('stage_shape', models.CharField(choices=[('NONE', 'None drawn'), ('STAGE', 'Stage (proscenium)'), ('THRUST', 'Round stage (arena)'), ('PITCH', 'Pitch (stadium)')], default='NONE', max_length=8, verbose_name='stage shape')),
                ('stage_label', models.CharField(blank=True, default='Stage', max_length=40, verbose_name='stage label')),
                ('stage_x', models.IntegerField(default=0, verbose_name='stage x')),
                ('stage_y', models.IntegerField(default=0, verbose_name='stage y')),
                ('stage_width', models.PositiveIntegerField(default=600, verbose_name='stage width')),
                ('stage_height', models.PositiveIntegerField(default=120, verbose_name='stage height')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='venues', to='events.organization', verbose_name='organization')),
            ],
            options={
                'verbose_name': 'venue',
                'verbose_name_plural': 'venues',
                'ordering': ['name'],
            },
            managers=[
                ('objects', django.db.models.manager.Manager()),
                ('all_objects', django.db.models.manager.Manager()),
            ],
        ),
        migrations.AddField(
            model_name='section',
            name='venue',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='sections', to='events.venue', verbose_name='venue'),
        ),
        migrations.AddField(
            model_name='event',
            name='venue',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='events.venue', verbose_name='venue'),
        ),
        migrations.AddConstraint(
            model_name='pricetier',
            constraint=models.UniqueConstraint(fields=('event', 'name'), name='tier_name_unique_per_event'),
        ),
        migrations.AddConstraint(
            model_name='pricetier',
            constraint=models.CheckConstraint(condition=models.Q(('price__gte', 0)), name='tier_price_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='pricetier',
            constraint=models.CheckConstraint(condition=models.Q(('colour__regex', '^#[0-9a-fA-F]{6}$')), name='tier_colour_hex'),
        ),
        migrations.AddConstraint(
            model_name='eventsection',
            constraint=models.UniqueConstraint(fields=('event', 'section'), name='event_section_unique'),
        ),
        migrations.AddConstraint(
            model_name='venue',
            constraint=models.UniqueConstraint(condition=models.Q(('deleted_at__isnull', True)), fields=('organization', 'name'), name='venue_name_unique_per_org'),
        ),
        migrations.AddConstraint(
            model_name='venue',
            constraint=models.CheckConstraint(condition=models.Q(('stage_shape__in', ['NONE', 'STAGE', 'THRUST', 'PITCH'])), name='venue_stage_shape_valid'),
        ),
        migrations.AddConstraint(
            model_name='venue',
            constraint=models.CheckConstraint(condition=models.Q(('stage_x__range', (-50000, 50000)), ('stage_y__range', (-50000, 50000))), name='venue_stage_on_map'),
        ),
        migrations.AddConstraint(
            model_name='venue',
            constraint=models.CheckConstraint(condition=models.Q(('stage_height__range', (10, 50000)), ('stage_width__range', (10, 50000))), name='venue_stage_size_sane'),
        ),
        migrations.AddConstraint(
            model_name='section',
            constraint=models.UniqueConstraint(condition=models.Q(('deleted_at__isnull', True)), fields=('venue', 'name'), name='section_name_unique_per_venue'),
        ),
        migrations.AddConstraint(
            model_name='section',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['SEATED', 'GENERAL'])), name='section_kind_valid'),
        ),
        migrations.AddConstraint(
            model_name='section',
            constraint=models.CheckConstraint(condition=models.Q(('map_shape__in', ['RECT', 'ARC'])), name='section_map_shape_valid'),
        ),
        migrations.AddConstraint(
            model_name='section',
            constraint=models.CheckConstraint(condition=models.Q(('map_x__range', (-50000, 50000)), ('map_y__range', (-50000, 50000))), name='section_on_map'),
        ),
        migrations.AddConstraint(
            model_name='section',
            constraint=models.CheckConstraint(condition=models.Q(('map_rotation__range', (-360, 360))), name='section_rotation_sane'),
        ),
        migrations.AddConstraint(
            model_name='section',
            constraint=models.CheckConstraint(condition=models.Q(('map_height__lte', 50000), ('map_width__lte', 50000)), name='section_footprint_sane'),
        ),
        migrations.AddConstraint(
            model_name='section',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('map_arc_radius', 0), ('map_shape', 'RECT')), models.Q(('map_arc_radius__range', (50, 50000)), ('map_shape', 'ARC')), _connector='OR'), name='section_arc_radius_matches_shape'),
        ),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['status', 'starts_at'], name='event_browse_idx'),
        ),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(fields=['organization', 'starts_at'], name='event_org_idx'),
        ),
        migrations.AddConstraint(
            model_name='event',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['DRAFT', 'PUBLISHED', 'CANCELLED', 'ENDED'])), name='event_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='event',
            constraint=models.CheckConstraint(condition=models.Q(('selection_mode__in', ['SEATMAP', 'BEST_AVAILABLE'])), name='event_selection_mode_valid'),
        ),
        migrations.AddConstraint(
            model_name='event',
            constraint=models.CheckConstraint(condition=models.Q(('inventory_status__in', ['NONE', 'BUILDING', 'READY'])), name='event_inventory_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='event',
            constraint=models.CheckConstraint(condition=models.Q(('doors_at__isnull', True), ('doors_at__lte', models.F('starts_at')), _connector='OR'), name='event_doors_before_start'),
        ),
        migrations.AddConstraint(
            model_name='event',
            constraint=models.CheckConstraint(condition=models.Q(('sales_start__isnull', True), ('sales_end__isnull', True), ('sales_start__lt', models.F('sales_end')), _connector='OR'), name='event_sales_window_ordered'),
        ),
        migrations.AddConstraint(
            model_name='event',
            constraint=models.CheckConstraint(condition=models.Q(('ends_at__isnull', True), ('ends_at__gt', models.F('starts_at')), _connector='OR'), name='event_ends_after_start'),
        ),
    ]
