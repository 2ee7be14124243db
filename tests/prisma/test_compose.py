"""docker-compose.yml can't be run here (no Docker engine); check its structure."""

from pathlib import Path

import yaml
from django.conf import settings

COMPOSE = Path(settings.BASE_DIR) / "docker-compose.yml"


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_has_the_production_services():
    services = _compose()["services"]
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    assert "postgis" in services["db"]["image"]
    assert services["redis"]["image"].startswith("redis")


def test_compose_commands_point_at_existing_modules():
    services = _compose()["services"]
    web = " ".join(services["web"]["command"])
    assert "gunicorn" in web and "prisma.wsgi:application" in web
    assert (Path(settings.BASE_DIR) / "prisma" / "wsgi.py").exists()
    for name in ("worker", "beat"):
        command = " ".join(services[name]["command"])
        assert "celery" in command and "-A prisma" in command
        assert name in command
    assert (Path(settings.BASE_DIR) / "prisma" / "celery.py").exists()


def test_compose_wires_settings_from_the_environment():
    compose = _compose()
    for name in ("web", "worker", "beat"):
        service = compose["services"][name]
        env = service["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "prisma.settings.production"
        assert env["DATABASE_URL"].startswith("postgis://")
        assert env["REDIS_URL"].startswith("redis://redis")
        assert "SECRET_KEY" in env and "${SECRET_KEY" in env["SECRET_KEY"]
        assert set(service["depends_on"]) >= {"db", "redis"}
    assert {"pgdata", "media"} <= set(compose["volumes"])
    dockerfile = (
        Path(settings.BASE_DIR) / compose["services"]["web"]["build"]["dockerfile"]
    )
    assert dockerfile.exists()
