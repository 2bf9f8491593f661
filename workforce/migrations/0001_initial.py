"""The workforce's models, moved here from the chatops app without touching a row.

The tables already exist (chatops 0001-0004 made them, chatops 0005 renamed them to this app's
names), so this migration only tells Django's state that the models now live here. chatops 0006
then forgets them there and points their content types (permissions, admin log) here.
"""

import datetime
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import workforce.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("chatops", "0005_workforce_tables"),
        ("tenants", "0006_settable_moments"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Agent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('display_name', models.CharField(help_text='The name visitors see, e.g. “Anna”.', max_length=60, verbose_name='display name')),
                        ('languages', models.JSONField(blank=True, default=list, validators=[workforce.models.validate_languages], verbose_name='languages')),
                        ('max_concurrent_chats', models.PositiveSmallIntegerField(default=3, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(10)], verbose_name='maximum concurrent chats')),
                        ('presence', models.CharField(choices=[('online', 'Online'), ('away', 'Away'), ('offline', 'Offline')], default='offline', max_length=8, verbose_name='presence')),
                        ('presence_changed_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='presence changed')),
                        ('last_seen_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='last seen')),
                        ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='agent', to=settings.AUTH_USER_MODEL, verbose_name='user')),
                    ],
                    options={
                        'verbose_name': 'agent',
                        'verbose_name_plural': 'agents',
                        'ordering': ['display_name'],
                    },
                ),
                migrations.CreateModel(
                    name='Qualification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('training_started_on', models.DateField(default=datetime.date.today, verbose_name='training started')),
                        ('training_completed_on', models.DateField(blank=True, null=True, verbose_name='training completed')),
                        ('agent', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='qualifications', to='workforce.agent', verbose_name='agent')),
                        ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='tenants.tenant', verbose_name='tenant')),
                    ],
                    options={
                        'verbose_name': 'qualification',
                        'verbose_name_plural': 'qualifications',
                        'ordering': ['agent', 'tenant'],
                        'constraints': [models.UniqueConstraint(fields=('agent', 'tenant'), name='one_qualification_per_agent_tenant'), models.CheckConstraint(condition=models.Q(('training_completed_on__isnull', True), ('training_completed_on__gte', models.F('training_started_on')), _connector='OR'), name='training_completes_after_it_starts')],
                    },
                ),
                migrations.CreateModel(
                    name='Shift',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('starts_at', models.DateTimeField(verbose_name='starts')),
                        ('ends_at', models.DateTimeField(verbose_name='ends')),
                        ('note', models.CharField(blank=True, max_length=200, verbose_name='note')),
                        ('agent', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='shifts', to='workforce.agent', verbose_name='agent')),
                    ],
                    options={
                        'verbose_name': 'shift',
                        'verbose_name_plural': 'shifts',
                        'ordering': ['starts_at', 'agent'],
                        'indexes': [models.Index(fields=['agent', 'starts_at'], name='workforce_s_agent_i_35c2aa_idx'), models.Index(fields=['starts_at', 'ends_at'], name='workforce_s_starts__3f3386_idx')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at'))), name='shift_ends_after_start')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
