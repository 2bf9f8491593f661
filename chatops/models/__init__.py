"""The project has no models: the workforce's moved to ``workforce/`` (migrations chatops 0005–0006).

Only the name below stays, because a landed migration (``chatops/migrations/0001_initial.py``) refers
to the languages validator by this path.
"""

from workforce.models import validate_languages

__all__ = ["validate_languages"]
