"""Knowledge-base search: a stored search document per article, kept by triggers, with a GIN index (PostgreSQL only).

The document is title (weight A), keywords (B) and text (C) in the text-search configuration of the tenant's
language. tenants_search_config() holds that mapping once for the database; tenants.search.SEARCH_CONFIGS is
the same mapping for the queries, and a test keeps the two alike. On SQLite the column stays empty.
"""

import django.contrib.postgres.search
from django.db import migrations

FORWARD = """
CREATE FUNCTION tenants_search_config(language text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE language WHEN 'en' THEN 'english' WHEN 'fi' THEN 'finnish' ELSE 'simple' END::regconfig
$$;

CREATE FUNCTION tenants_knowledgearticle_document() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    config regconfig;
BEGIN
    SELECT tenants_search_config(language) INTO config FROM tenants_tenant WHERE id = NEW.tenant_id;
    NEW.search_document :=
        setweight(to_tsvector(config, coalesce(NEW.title, '')), 'A')
        || setweight(to_tsvector(config, coalesce(NEW.keywords, '')), 'B')
        || setweight(to_tsvector(config, coalesce(NEW.body, '')), 'C');
    RETURN NEW;
END
$$;

CREATE TRIGGER tenants_knowledgearticle_document
BEFORE INSERT OR UPDATE OF title, keywords, body, tenant_id ON tenants_knowledgearticle
FOR EACH ROW EXECUTE FUNCTION tenants_knowledgearticle_document();

-- A tenant that changes language gets its articles' documents rebuilt in the new configuration.
CREATE FUNCTION tenants_tenant_language_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tenants_knowledgearticle SET title = title WHERE tenant_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER tenants_tenant_language_changed
AFTER UPDATE OF language ON tenants_tenant
FOR EACH ROW WHEN (OLD.language IS DISTINCT FROM NEW.language)
EXECUTE FUNCTION tenants_tenant_language_changed();

CREATE INDEX tenants_knowledgearticle_search ON tenants_knowledgearticle USING gin (search_document);

UPDATE tenants_knowledgearticle SET title = title;
"""

BACKWARD = """
DROP INDEX IF EXISTS tenants_knowledgearticle_search;
DROP TRIGGER IF EXISTS tenants_tenant_language_changed ON tenants_tenant;
DROP FUNCTION IF EXISTS tenants_tenant_language_changed();
DROP TRIGGER IF EXISTS tenants_knowledgearticle_document ON tenants_knowledgearticle;
DROP FUNCTION IF EXISTS tenants_knowledgearticle_document();
DROP FUNCTION IF EXISTS tenants_search_config(text);
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0002_workspace"),
    ]

    operations = [
        migrations.AddField(
            model_name="knowledgearticle",
            name="search_document",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD)),
    ]
