"""Names taken from Cognito claims before they were cleaned: drop what project.text refuses."""

from django.db import migrations

from project import text


def clean_names(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    for pk, name in User.objects.values_list("pk", "name").iterator(chunk_size=2000):
        cleaned = text.without_refused(name).strip()
        if cleaned != name:
            User.objects.filter(pk=pk).update(name=cleaned)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_pending_email"),
    ]

    operations = [
        migrations.RunPython(clean_names, migrations.RunPython.noop),
    ]
