"""Accent- and case-insensitive directory search: unaccent, an IMMUTABLE wrapper that a generated
column may use, stored folded name and college, and the trigram indexes moved onto them."""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.conf import settings
from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations, models

import profiles.models

# unaccent() is STABLE (it looks its dictionary up through search_path), so no generated column or
# index may call it. The wrapper names the dictionary by its schema-qualified OID, fixed when the
# SQL-standard body is parsed (PostgreSQL 14+), which makes IMMUTABLE true.
CREATE_FUNCTION = """
DO $do$
DECLARE
    schema text := (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
                    WHERE e.extname = 'unaccent');
BEGIN
    EXECUTE format(
        'CREATE OR REPLACE FUNCTION immutable_unaccent(text) RETURNS text '
        'LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT '
        'RETURN %1$I.unaccent(%2$L::regdictionary, $1)',
        schema, quote_ident(schema) || '.unaccent'
    );
END
$do$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("profiles", "0004_moderation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        UnaccentExtension(),
        migrations.RunSQL(CREATE_FUNCTION, reverse_sql="DROP FUNCTION IF EXISTS immutable_unaccent(text)"),
        migrations.RemoveIndex(
            model_name="profile",
            name="profile_name_trgm",
        ),
        migrations.RemoveIndex(
            model_name="profile",
            name="profile_college_trgm",
        ),
        migrations.AddField(
            model_name="profile",
            name="college_folded",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Upper(profiles.models.Unaccent("college")),
                output_field=models.TextField(),
            ),
        ),
        migrations.AddField(
            model_name="profile",
            name="name_folded",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Upper(profiles.models.Unaccent("display_name")),
                output_field=models.TextField(),
            ),
        ),
        migrations.AddIndex(
            model_name="profile",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["name_folded"], name="profile_name_folded_trgm", opclasses=["gin_trgm_ops"]
            ),
        ),
        migrations.AddIndex(
            model_name="profile",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["college_folded"], name="profile_college_folded_trgm", opclasses=["gin_trgm_ops"]
            ),
        ),
    ]
