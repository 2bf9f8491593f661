"""A quick password hasher for the tests: the same algorithm with few rounds.

Hashing a password the production way takes a quarter of a CPU second, and nearly every test makes a
user or logs one in. A hash stores its rounds, so the servers a test starts in processes of their own
(daphne, workers) check these hashes with Django's own hasher; only the tests' process makes them.
"""

from __future__ import annotations

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2-SHA256 (``pbkdf2_sha256``) with 1,000 rounds instead of a million."""

    iterations = 1_000
