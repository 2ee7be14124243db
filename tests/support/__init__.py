"""Helpers for tests and bench scripts: free ports and waiting (``ports``), real
processes on the test database (``processes``), scratch databases
(``databases``), Celery routing (``celery``) and logging in (``login``).

None of them imports pytest or Django models at import time, so the bench
scripts can use them when run from the repository root.
"""
