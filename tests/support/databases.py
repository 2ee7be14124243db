"""Scratch databases on the PostgreSQL server of a database URL."""

from __future__ import annotations

from typing import Any


def server_params(url: str) -> dict[str, Any]:
    """psycopg connection parameters for the URL's server (without the database)."""
    import environ

    config = environ.Env.db_url_config(url)
    params = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    return {key: value for key, value in params.items() if value}


def database_name(url: str) -> str:
    import environ

    return environ.Env.db_url_config(url)["NAME"]


def with_database(url: str, name: str) -> str:
    """The same server's URL for another database."""
    return url.rsplit("/", 1)[0] + "/" + name


def database_create(url: str) -> bool:
    """Create the URL's database unless it exists; True if it was created."""
    import psycopg
    from psycopg import sql

    name = database_name(url)
    with psycopg.connect(dbname="postgres", autocommit=True, **server_params(url)) as c:
        if c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


def database_drop(url: str) -> None:
    """Drop the URL's database, ending its sessions first."""
    import psycopg
    from psycopg import sql

    name = database_name(url)
    with psycopg.connect(dbname="postgres", autocommit=True, **server_params(url)) as c:
        c.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


def session_connect():
    """A psycopg connection of its own to the database Django uses (another
    session, e.g. to hold a lock or an uncommitted row while a test watches)."""
    import psycopg
    from django.db import connection

    db = connection.settings_dict
    params = {
        "dbname": db["NAME"],
        "host": db["HOST"],
        "port": db["PORT"],
        "user": db["USER"],
        "password": db["PASSWORD"],
    }
    return psycopg.connect(**{k: v for k, v in params.items() if v})


def other_sessions() -> set[int]:
    """Backend pids of the other sessions on Django's database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {row[0] for row in cursor.fetchall()}
