"""The product's settings with a counting database backend, for the daphne processes of `bench/chat_load.py`.

Bench only: the database engine is `bench.counting_db` (PostgreSQL's, counting each statement, BEGIN,
COMMIT and ROLLBACK per process) and /bench/sql-counts/ answers the counts beside the product's own URLs.
"""

from chatops.settings import *  # noqa: F403
from chatops.settings import DATABASES

DATABASES = {**DATABASES, "default": {**DATABASES["default"], "ENGINE": "bench.counting_db"}}
ROOT_URLCONF = "bench.counting_urls"
