"""A database made by the code before the split into apps (commit c18155f, when
SavedQuery, StaffProfile and AuditEvent lived in the app ``prisma``) migrates
forward with every row, content type, permission and group intact."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from django.conf import settings

from tests.support.databases import database_create, database_drop, with_database
from tests.support.processes import database_url, manage

ROOT = Path(settings.BASE_DIR)
OLD_MAIN = "c18155f"

# Rows made through the old code: two districts (just the Bezirk units needed),
# a planner of Mitte with a district query, an audit event and an API token.
OLD_ROWS = """
from django.contrib.auth.models import User
from django.contrib.gis.geos import MultiPolygon, Polygon
from rest_framework.authtoken.models import Token
from lor.models import LorUnit
from prisma.access import Role, user_assign
from prisma.audit import audit_record
from prisma.models import SavedQuery

def bezirk(code, name, x):
    ring = ((x, 5820000), (x + 100, 5820000), (x + 100, 5820100), (x, 5820100),
            (x, 5820000))
    geom = MultiPolygon(Polygon(ring), srid=25833)
    return LorUnit.objects.create(
        level="bezirk", code=code, name=name, geom=geom, area_m2=geom.area)

mitte, pankow = bezirk("01", "Mitte", 390000), bezirk("03", "Pankow", 391000)
planner = User.objects.create_user("planerin", password="geheim-123")
user_assign(user=planner, role=Role.PLANNER, bezirk_code="01")
coordinator = User.objects.create_user("koordination03", password="geheim-123")
user_assign(user=coordinator, role=Role.COORDINATOR, bezirk_code="03")
SavedQuery.objects.create(
    title="Einwohner je Planungsraum", inquiry_reference="Drucksache 19/12345",
    owner=planner, sharing="district", district=mitte,
    selection={"level": "planungsraum", "columns": ["E_E"], "date": "2024-12-31",
               "derived": [], "conditions": [], "within": "01"},
    presentation={"method": "quantiles", "map": {"zoom": 11}})
audit_record(user=planner, action="export", object_type="datapool.variable",
             object_id="E_E", object_label="auswahl.xlsx",
             details={"format": "xlsx", "rows": 542})
Token.objects.create(user=coordinator)
"""

# What must survive, read through the models of the tree that runs it.
SNAPSHOT = """
import json
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from rest_framework.authtoken.models import Token
{imports}

models = {{"staffprofile": StaffProfile, "auditevent": AuditEvent,
          "savedquery": SavedQuery}}
types = ContentType.objects.filter(model__in=models)
print(json.dumps({{
    "staff_profiles": list(StaffProfile.objects.order_by("pk").values_list(
        "pk", "user__username", "bezirk__code")),
    "saved_queries": list(SavedQuery.objects.order_by("pk").values(
        "pk", "title", "inquiry_reference", "owner__username", "sharing",
        "district__code", "selection", "presentation", "pinned", "created_at",
        "updated_at")),
    "audit_events": list(AuditEvent.objects.order_by("pk").values(
        "pk", "at", "user__username", "username", "action", "object_type",
        "object_id", "object_label", "details")),
    "tokens": list(Token.objects.order_by("key").values_list(
        "key", "user__username", "created")),
    "user_groups": {{u.username: sorted(u.groups.values_list("name", flat=True))
                    for u in User.objects.order_by("username")}},
    "content_types": {{ct.model: [ct.pk, ct.app_label] for ct in types}},
    "model_content_types": {{name: ContentType.objects.get_for_model(model).pk
                            for name, model in models.items()}},
    "permissions": sorted(Permission.objects.filter(content_type__in=types)
                          .values_list("pk", "codename", "content_type_id")),
    "groups": {{g.name: sorted(g.permissions.values_list("pk", flat=True))
               for g in Group.objects.order_by("name")}},
}}, cls=DjangoJSONEncoder))
"""
OLD_IMPORTS = "from prisma.models import AuditEvent, SavedQuery, StaffProfile"
NEW_IMPORTS = (
    "from core.models import AuditEvent, StaffProfile\n"
    "from queries.models import SavedQuery"
)


@pytest.fixture
def old_main(tmp_path) -> Path:
    """The tree of the old main, unpacked from git."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    found = subprocess.run(
        [git, "-C", str(ROOT), "cat-file", "-e", f"{OLD_MAIN}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    if found.returncode != 0:
        pytest.skip(f"commit {OLD_MAIN} (the old main) is not in this repository")
    archive = tmp_path / "old.tar"
    with archive.open("wb") as out:
        subprocess.run(
            [git, "-C", str(ROOT), "archive", OLD_MAIN], stdout=out, check=True
        )
    tree = tmp_path / "old"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


@pytest.fixture
def scratch_url():
    """A fresh database of its own on the test database's server."""
    url = with_database(database_url(), f"prisma_migtest_{os.getpid()}")
    database_drop(url)  # left over by an interrupted run
    database_create(url)
    yield url
    database_drop(url)


def _snapshot(tree: Path, imports: str, env: dict[str, str], first: str = "") -> dict:
    """The snapshot, read in the tree after running the code first."""
    script = first + SNAPSHOT.format(imports=imports)
    output = manage("shell", "-c", script, cwd=tree, env=env).stdout
    return json.loads(output.strip().splitlines()[-1])


def test_database_of_the_old_main_migrates_with_all_data(old_main, scratch_url):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": scratch_url,
        "DJANGO_SETTINGS_MODULE": "prisma.settings.test",
    }
    manage("migrate", "--noinput", "-v", "0", cwd=old_main, env=env)
    before = _snapshot(old_main, OLD_IMPORTS, env, first=OLD_ROWS)
    assert before["content_types"] == {
        model: [before["model_content_types"][model], "prisma"]
        for model in ("staffprofile", "auditevent", "savedquery")
    }
    assert len(before["permissions"]) == 12  # add, change, delete, view × 3

    manage("migrate", "--noinput", "-v", "0", env=env)
    after = _snapshot(ROOT, NEW_IMPORTS, env)

    for rows in (
        "staff_profiles",
        "saved_queries",
        "audit_events",
        "tokens",
        "user_groups",
        "model_content_types",
        "permissions",
    ):
        assert after[rows] == before[rows], rows
    assert len(after["saved_queries"]) == len(after["audit_events"]) == 1
    assert after["staff_profiles"] == [
        [1, "planerin", "01"],
        [2, "koordination03", "03"],
    ]
    assert after["content_types"] == {
        "staffprofile": [before["model_content_types"]["staffprofile"], "core"],
        "auditevent": [before["model_content_types"]["auditevent"], "core"],
        "savedquery": [before["model_content_types"]["savedquery"], "queries"],
    }
    assert set(after["groups"]) == set(before["groups"])
    for group, permissions in before["groups"].items():
        assert set(permissions) <= set(after["groups"][group]), group
    saved_query_permissions = {
        p[0] for p in before["permissions"] if "savedquery" in p[1]
    }
    assert len(saved_query_permissions) == 4
    assert saved_query_permissions <= set(after["groups"]["Planung"])

    # Raises with the planned migration if the models and migrations differ.
    check = manage("makemigrations", "--check", "--dry-run", env=env)
    assert "No changes detected" in check.stdout
