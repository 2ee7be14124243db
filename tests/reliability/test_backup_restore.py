"""scripts/backup.sh and scripts/restore.sh: a dump of the Datenpool restored into a
fresh database has the same rows in every table."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from datapool.models import Observation
from tests.support.databases import database_drop, with_database
from tests.support.processes import database_url

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("lor_units"),
    pytest.mark.skipif(not shutil.which("pg_dump"), reason="needs pg_dump"),
]
SCRIPTS = Path(settings.BASE_DIR) / "scripts"


def _plain_url(url: str) -> str:
    return url.replace("postgis://", "postgresql://", 1)


def _row_counts(url: str) -> dict[str, int]:
    with psycopg.connect(_plain_url(url), autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "ORDER BY tablename"
            )
        ]
        return {
            table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table in tables
        }


def _observation_fingerprint(url: str) -> tuple:
    with psycopg.connect(_plain_url(url), autocommit=True) as conn:
        return conn.execute(
            f"SELECT count(*), sum(value), count(*) FILTER (WHERE status = "
            f"'suppressed'), md5(string_agg(id::text || ':' || coalesce(value::text, "
            f"'-'), ',' ORDER BY id)) FROM {Observation._meta.db_table}"
        ).fetchone()


def _run(script: str, *args: str, url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPTS / script), *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture
def fresh_database_url() -> str:
    name = f"{connection.settings_dict['NAME']}_restore_{secrets.token_hex(4)}"
    url = with_database(database_url(), name)
    yield url
    database_drop(url)


def test_backup_then_restore_into_a_fresh_database_keeps_every_row(
    ewr_imported, tmp_path, fresh_database_url
):
    source = database_url()
    before = _row_counts(source)
    assert before[Observation._meta.db_table] > 20_000

    dump = tmp_path / "prisma.dump"
    result = _run("backup.sh", str(dump), url=source)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(dump) and dump.stat().st_size > 0
    assert not dump.with_name("prisma.dump.partial").exists()

    result = _run("restore.sh", str(dump), url=fresh_database_url)
    assert result.returncode == 0, result.stderr
    assert _row_counts(fresh_database_url) == before
    assert _observation_fingerprint(fresh_database_url) == _observation_fingerprint(
        source
    )
    with psycopg.connect(_plain_url(fresh_database_url)) as conn:
        # The geometries and their spatial functions came along.
        area = conn.execute(
            "SELECT round(ST_Area(geom) / 1e6) FROM lor_lorunit WHERE code = '11000000'"
        ).fetchone()[0]
    assert area == 891

    # A second restore into the now filled database is refused, changing nothing.
    result = _run("restore.sh", str(dump), url=fresh_database_url)
    assert result.returncode == 1
    assert "not empty" in result.stderr
    assert _row_counts(fresh_database_url) == before
