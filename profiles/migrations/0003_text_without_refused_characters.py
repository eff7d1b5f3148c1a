"""Profile text stored before the control-character rule reached every path (Cognito claims took
any characters): drop what project.text refuses, so no stored value blocks its owner's edits."""

from django.db import migrations
from django.db.models import F
from django.utils import timezone

from project import text

# The handle is not here: its own validator only ever let [a-z0-9_-] in.
SINGLE_LINE = ("display_name", "college", "role", "pronouns", "location", "website")
MULTI_LINE = ("bio",)


def _cleaned(row: dict) -> dict:
    changes = {}
    for name in SINGLE_LINE + MULTI_LINE:
        value = text.without_refused(row[name], multi_line=name in MULTI_LINE)
        value = value.strip() if name in SINGLE_LINE else value
        if value != row[name]:
            changes[name] = value
    if changes.get("display_name") == "":  # nothing but invisible characters: the form needs a name
        changes["display_name"] = row["handle"]
    return changes


def clean_profile_text(apps, schema_editor):
    Profile = apps.get_model("profiles", "Profile")
    rows = Profile.objects.values("pk", "handle", *SINGLE_LINE, *MULTI_LINE)
    for row in rows.iterator(chunk_size=2000):
        changes = _cleaned(row)
        if changes:
            # A new version: an editor opened on the old text saves over it only after a reload.
            Profile.objects.filter(pk=row["pk"]).update(
                **changes, version=F("version") + 1, updated_at=timezone.now()
            )


class Migration(migrations.Migration):
    dependencies = [
        ("profiles", "0002_avatar"),
    ]

    operations = [
        migrations.RunPython(clean_profile_text, migrations.RunPython.noop),
    ]
