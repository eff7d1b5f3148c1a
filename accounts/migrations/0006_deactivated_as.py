from django.db import migrations, models


def missing_ones(apps, schema_editor) -> None:
    """Users deactivated by a reconciliation so far: reactivated when found in the pool again."""
    User = apps.get_model("accounts", "User")
    User.objects.filter(is_active=False, pool_missing_since__isnull=False).update(deactivated_as="missing")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_operator_console"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="deactivated_as",
            field=models.CharField(
                blank=True,
                choices=[("missing", "missing from the user pool"), ("disabled", "disabled in Cognito")],
                editable=False,
                max_length=16,
                verbose_name="deactivated because",
            ),
        ),
        migrations.RunPython(missing_ones, migrations.RunPython.noop),
    ]
