"""PostgreSQL's Django backend, counting what it sends (bench only; see `base.py`)."""
