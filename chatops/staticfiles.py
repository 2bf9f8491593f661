"""Static files in production: whitenoise's compressed files with hashed names, ES-module imports included.

The agent console is a set of ES modules (conversations/static/conversations/console/) loaded without a
build step. collectstatic gives each file a name with its content's hash, and a hashed module must import the
others by their hashed names too: otherwise the browser fetches the unhashed copies, which are cached only
briefly and may belong to another version after a deployment. Django's manifest storage rewrites
``import … from "./x.js";`` when asked to (``support_js_module_import_aggregation``); a missing module then
fails collectstatic instead of the console.
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class CompressedManifestModulesStorage(CompressedManifestStaticFilesStorage):
    """Compress and hash the static files, and point every JS module's relative imports at the hashed names."""

    support_js_module_import_aggregation = True
