"""Role × endpoint matrix: every URL of the URLconf, every role, real requests.

``MATRIX`` holds one entry per URL (its name, or its route when unnamed). Each
entry lists requests (method, arguments, body) and the expected outcome per
role. ``test_every_url_has_a_matrix_entry`` fails as soon as a URL is added
without an entry, so nobody forgets to decide who may use it.

Outcomes: a status code as text ("200", "403", …), ``LOGIN`` (302 to the login
page), ``ADMIN_LOGIN`` (302 to the admin login) or ``REDIRECT`` (302 elsewhere).
Roles: anonymous, guest, planner (Bezirk 01), coordinators of Bezirk 03 and 07,
administrator (PRISMA group, not superuser).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.access import Role
from datapool.models import Facility, FacilityLayer, ImportRun, Observation, Variable
from datapool.services.imports import import_run_create
from lor.models import CustomAreaSet, LorUnit
from lor.services import AreaSpec, custom_area_set_create
from queries.models import SavedQuery
from queries.services import saved_query_create, saved_query_pin
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "guest", "planner", "coord03", "coord07", "admin")
LOGIN, ADMIN_LOGIN, REDIRECT = "login", "admin-login", "redirect"

SELECTION = {"level": "bezirk", "columns": ["E_E"]}


def every(outcome: str) -> dict[str, str]:
    return dict.fromkeys(ROLES, outcome)


def signed_in(outcome: str, anonymous: str = LOGIN) -> dict[str, str]:
    return {**every(outcome), "anonymous": anonymous}


def roles(
    allowed: str,
    denied: str = "403",
    *,
    who: tuple[str, ...],
    anonymous: str = LOGIN,
) -> dict[str, str]:
    return {
        role: anonymous if role == "anonymous" else allowed if role in who else denied
        for role in ROLES
    }


STAFF = ("planner", "coord03", "coord07", "admin")
GUEST_HIDDEN = {"guest": "404"}
WRITERS = ("coord03", "coord07", "admin")
API_DENIED = "403"  # DRF: session clients without login get 403


@dataclass
class Call:
    method: str = "GET"
    kwargs: Callable[[Any], dict] | dict = field(default_factory=dict)
    query: Callable[[Any], dict] | dict = field(default_factory=dict)
    data: Callable[[Any], Any] | None = None
    json_body: bool = False
    expect: dict[str, str] = field(default_factory=dict)
    # Only for a named role (e.g. slow PDF rendering): the others are not called.
    only: tuple[str, ...] = ROLES
    # A literal path, for the unnamed URLs of the admin.
    path: Callable[[Any], str] | str | None = None


def _value(item, ctx):
    return item(ctx) if callable(item) else item


# --- the matrix ---------------------------------------------------------------


def _upload_03(ctx):
    return {
        "file": SimpleUploadedFile(
            "spielplaetze_03.csv", ctx.csv_03, content_type="text/csv"
        ),
        "kind": "table",
        "district": ctx.bezirk["03"].pk,
    }


def _api_upload_03(ctx):
    return {
        "file": SimpleUploadedFile("mss_03.csv", ctx.csv_03, content_type="text/csv"),
        "kind": "mss",
        "district": "03",
    }


def _fresh_query(ctx):
    query = saved_query_create(
        owner=ctx.users["planner"],
        title="Zum Löschen",
        selection=SELECTION,
        sharing=SavedQuery.Sharing.STAFF,
    )
    return {"pk": query.pk}


def _fresh_area_set(ctx):
    area_set = custom_area_set_create(
        name="Kulisse",
        kind=CustomAreaSet.Kind.OTHER,
        areas=[AreaSpec(name="A", keys=["01100101"])],
        owner=ctx.users["planner"],
    )
    return {"pk": area_set.pk}


MATRIX: dict[str, list[Call]] = {
    # The start page: every signed-in role (what it offers differs, see
    # tests/start); its search is the same page with ?q=.
    "home": [
        Call(expect=signed_in("200")),
        Call(query={"q": "Moabit"}, expect=signed_in("200")),
    ],
    # Public: the login page, the health check, language switch.
    "health": [Call(expect=every("200"))],
    "login": [Call(expect=every("200"))],
    "logout": [Call(expect=every("405")), Call("POST", expect=every(LOGIN))],
    "set_language": [Call("POST", data={"language": "en"}, expect=every(REDIRECT))],
    # API schema and docs describe staff endpoints: signed in only.
    "api-schema": [Call(expect=signed_in("200", API_DENIED))],
    "api-docs": [Call(expect=signed_in("200", API_DENIED))],
    "audit-list": [Call(expect=roles("200", who=("admin",)))],
    # LOR
    "lor:map": [Call(expect=signed_in("200"))],
    "lor:unit-detail": [Call(kwargs={"code": "01"}, expect=signed_in("200"))],
    "lor-api:unit-list": [
        Call(query={"level": "bezirk"}, expect=signed_in("200", API_DENIED))
    ],
    "lor-api:unit-detail": [
        Call(kwargs={"code": "01"}, expect=signed_in("200", API_DENIED))
    ],
    "api-area-sets": [Call(expect=signed_in("200", API_DENIED))],
    # The crosswalk's weights describe geometry and published totals: every
    # signed-in reader, like the units themselves.
    "api-crosswalk": [Call(expect=signed_in("200", API_DENIED))],
    # Maps and analysis (reads of released data)
    "maps:geometry": [
        Call(kwargs={"level": "bezirk"}, expect=signed_in("200", API_DENIED))
    ],
    "maps:values": [
        Call(
            query={"variable": "E_E", "level": "bezirk"},
            expect=signed_in("200", API_DENIED),
        ),
        # An unreleased district variable: only its coordinators and admins; to
        # everyone else it is an unknown variable (the map answers those with 400).
        Call(
            query=lambda ctx: {"variable": ctx.var03.key, "level": "bezirk"},
            expect=roles("200", "400", who=("coord03", "admin"), anonymous=API_DENIED),
        ),
    ],
    "api-selection-table": [
        Call(
            query={"selection": json.dumps(SELECTION)},
            expect=signed_in("200", API_DENIED),
        ),
        Call(
            query=lambda ctx: {
                "selection": json.dumps({"level": "bezirk", "columns": [ctx.var03.key]})
            },
            expect=roles("200", "404", who=("coord03", "admin"), anonymous=API_DENIED),
        ),
    ],
    "analysis:explorer": [Call(expect=signed_in("200"))],
    "analysis:analyse": [Call(expect=signed_in("200"))],
    "analysis:selection-export": [
        Call(
            query={"format": "csv", "selection": json.dumps(SELECTION)},
            expect=signed_in("200"),
        ),
        Call(
            query=lambda ctx: {
                "format": "csv",
                "selection": json.dumps(
                    {"level": "bezirk", "columns": [ctx.var03.key]}
                ),
            },
            expect=roles("200", "404", who=("coord03", "admin")),
        ),
    ],
    "analysis:chart": [
        Call(
            kwargs={"kind": "ranking", "fmt": "svg"},
            query={"selection": json.dumps(SELECTION), "column": "E_E"},
            expect=signed_in("200"),
        )
    ],
    "analysis:area-set-list": [Call(expect=signed_in("200"))],
    "analysis:area-set-create": [
        Call(expect=roles("200", who=STAFF)),
        Call(
            "POST",
            data={"name": "Testkulisse", "kind": "other", "keys": "A: 01100101"},
            expect=roles(REDIRECT, who=STAFF),
        ),
    ],
    "analysis:area-set-delete": [
        Call(kwargs=_fresh_area_set, expect=signed_in("405") | {"guest": "403"}),
        # Owner (the planner) and administrators only.
        Call(
            "POST",
            kwargs=_fresh_area_set,
            expect=roles(REDIRECT, who=("planner", "admin")),
        ),
    ],
    # Datenpool: catalogue
    "datapool:variable-list": [Call(expect=signed_in("200"))],
    "datapool:variable-detail": [
        Call(kwargs={"key": "E_E"}, expect=signed_in("200")),
        Call(
            kwargs=lambda ctx: {"key": ctx.var03.key},
            expect=roles("200", "404", who=("coord03", "admin")),
        ),
    ],
    "datapool:variable-chart": [Call(kwargs={"key": "E_E"}, expect=signed_in("200"))],
    "datapool:variable-edit": [
        # Released district data of Bezirk 07: only its coordinator and admins
        # edit. Guests do not even see it: district counts are confidential.
        Call(
            kwargs=lambda ctx: {"key": ctx.var07.key},
            expect=roles("200", who=("coord07", "admin")) | GUEST_HIDDEN,
        ),
        Call(
            "POST",
            kwargs=lambda ctx: {"key": ctx.var07.key},
            data={
                "name": "Spielplätze (Bezirk 07)",
                "theme": "gruen",
                "delivery_cycle": "annual",
                "unit": "Anzahl",
            },
            expect=roles(REDIRECT, who=("coord07", "admin")) | GUEST_HIDDEN,
        ),
        # Berlin-wide AfS data: administrators only.
        Call(kwargs={"key": "E_E"}, expect=roles("200", who=("admin",))),
    ],
    "datapool:variable-release": [
        Call(kwargs=lambda ctx: {"key": ctx.var07.key}, expect=signed_in("405")),
        Call(
            "POST",
            kwargs=lambda ctx: {"key": ctx.var07.key},
            data={"released": "1"},
            expect=roles(REDIRECT, who=("coord07", "admin")) | GUEST_HIDDEN,
        ),
    ],
    "datapool:facility-layer-location": [
        Call(kwargs=lambda ctx: {"key": ctx.layer03.key}, expect=signed_in("405")),
        # Only the owning district's coordinator and admins; to others the
        # unreleased layer does not exist.
        Call(
            "POST",
            kwargs=lambda ctx: {"key": ctx.layer03.key},
            data={"location_confidential": "1"},
            expect=roles(REDIRECT, "404", who=("coord03", "admin")),
        ),
        # A Berlin-wide layer: administrators only ("0" keeps it as it is).
        Call(
            "POST",
            kwargs=lambda ctx: {"key": ctx.layer_berlin.key},
            data={"location_confidential": "0"},
            expect=roles(REDIRECT, who=("admin",)),
        ),
    ],
    "datapool:indicator-list": [Call(expect=signed_in("200"))],
    "datapool:indicator-recompute": [
        Call(expect=roles("405", who=WRITERS)),
        Call("POST", expect=roles(REDIRECT, who=WRITERS)),
    ],
    # Imports: coordinators' and administrators' workspace; planners read.
    "datapool:import-list": [Call(expect=roles("200", who=STAFF))],
    "datapool:import-create": [
        Call(expect=roles("200", who=WRITERS)),
        Call(
            "POST",
            data=_upload_03,
            expect=roles(REDIRECT, who=("coord03", "admin")),
        ),
    ],
    "datapool:import-detail": [
        Call(
            kwargs=lambda ctx: {"pk": ctx.run_berlin.pk}, expect=roles("200", who=STAFF)
        ),
        Call(
            kwargs=lambda ctx: {"pk": ctx.run03.pk},
            expect=roles("200", "404", who=("coord03", "admin")) | {"guest": "403"},
        ),
    ],
    "datapool:import-mapping": [
        Call(
            kwargs=lambda ctx: {"pk": ctx.run03.pk},
            expect=roles("200", "404", who=("coord03", "admin"))
            | {"guest": "403", "planner": "403"},
        ),
        # The Berlin-wide run is not a table awaiting mapping: back to its page.
        Call(
            kwargs=lambda ctx: {"pk": ctx.run_berlin.pk},
            expect=roles(REDIRECT, who=("admin",)),
        ),
    ],
    "datapool:import-resolve": [
        Call(
            "POST",
            kwargs=lambda ctx: {"pk": ctx.run03.pk},
            expect=roles(REDIRECT, "404", who=("coord03", "admin"))
            | {"guest": "403", "planner": "403"},
        ),
        Call(
            "POST",
            kwargs=lambda ctx: {"pk": ctx.run_berlin.pk},
            expect=roles(REDIRECT, who=("admin",)),
        ),
    ],
    "datapool:import-retry": [
        Call(
            "POST",
            kwargs=lambda ctx: {"pk": ctx.run03.pk},
            expect=roles(REDIRECT, "404", who=("coord03", "admin"))
            | {"guest": "403", "planner": "403"},
        ),
        Call(
            kwargs=lambda ctx: {"pk": ctx.run03.pk},
            expect=signed_in("405") | {"guest": "403"},
        ),
    ],
    # Datenpool API
    "datapool-api:variable-list": [Call(expect=signed_in("200", API_DENIED))],
    "datapool-api:variable-detail": [
        Call(kwargs={"key": "E_E"}, expect=signed_in("200", API_DENIED)),
        Call(
            kwargs=lambda ctx: {"key": ctx.var03.key},
            expect=roles("200", "404", who=("coord03", "admin"), anonymous=API_DENIED),
        ),
        Call(
            "PATCH",
            kwargs=lambda ctx: {"key": ctx.var07.key},
            data={"description": "Öffentliche Spielplätze"},
            json_body=True,
            expect=roles("200", who=("coord07", "admin"), anonymous=API_DENIED)
            | GUEST_HIDDEN,
        ),
        Call(
            "PATCH",
            kwargs={"key": "E_E"},
            data={"notes": "geprüft"},
            json_body=True,
            expect=roles("200", who=("admin",), anonymous=API_DENIED),
        ),
    ],
    "datapool-api:values": [
        Call(
            query={"variable": "E_E", "level": "bezirk"},
            expect=signed_in("200", API_DENIED),
        ),
        Call(
            query=lambda ctx: {"variable": ctx.var03.key, "level": "bezirk"},
            expect=roles("200", "404", who=("coord03", "admin"), anonymous=API_DENIED),
        ),
    ],
    "datapool-api:value-series": [
        Call(
            query={"variable": "E_E", "level": "bezirk", "units": "01,02"},
            expect=signed_in("200", API_DENIED),
        ),
        Call(
            query=lambda ctx: {
                "variable": ctx.var03.key,
                "level": "bezirk",
                "units": "03",
            },
            expect=roles("200", "404", who=("coord03", "admin"), anonymous=API_DENIED),
        ),
    ],
    "datapool-api:indicator-list": [Call(expect=signed_in("200", API_DENIED))],
    "datapool-api:facility-layers": [Call(expect=signed_in("200", API_DENIED))],
    "datapool-api:facility-points": [
        Call(kwargs={"key": "kitas"}, expect=signed_in("404", API_DENIED)),
        # Layers follow their count variable: a released Berlin-wide layer for
        # everyone, Bezirk 03's unreleased upload for its coordinator and
        # admins, a location-confidential layer (counts only) for staff.
        Call(
            kwargs=lambda ctx: {"key": ctx.layer_berlin.key},
            expect=signed_in("200", API_DENIED),
        ),
        Call(
            kwargs=lambda ctx: {"key": ctx.layer03.key},
            expect=roles("200", "404", who=("coord03", "admin"), anonymous=API_DENIED),
        ),
        Call(
            kwargs=lambda ctx: {"key": ctx.layer_hidden.key},
            expect=roles("200", "404", who=STAFF, anonymous=API_DENIED),
        ),
    ],
    "datapool-api:import-create": [
        Call(expect=signed_in("405", API_DENIED)),
        Call(
            "POST",
            data=_api_upload_03,
            expect=roles("201", who=("coord03", "admin"), anonymous=API_DENIED),
        ),
    ],
    "datapool-api:import-status": [
        Call(
            kwargs=lambda ctx: {"pk": ctx.run_berlin.pk},
            expect=roles("200", who=STAFF, anonymous=API_DENIED),
        ),
        Call(
            kwargs=lambda ctx: {"pk": ctx.run03.pk},
            expect=roles("200", "404", who=("coord03", "admin"), anonymous=API_DENIED)
            | {"guest": "403"},
        ),
    ],
    # Saved queries: staff save; the owner changes; "district" means the district.
    "queries:list": [Call(expect=signed_in("200"))],
    "queries:create": [
        Call(expect=roles("200", who=STAFF)),
        Call(
            "POST",
            data={
                "title": "Anfrage",
                "sharing": "private",
                "selection_json": json.dumps(SELECTION),
            },
            expect=roles(REDIRECT, who=STAFF),
        ),
    ],
    "queries:detail": [
        Call(
            kwargs=lambda ctx: {"pk": ctx.q_staff.pk},
            expect=roles("200", "404", who=STAFF),
        ),
        Call(
            kwargs=lambda ctx: {"pk": ctx.q_district03.pk},
            expect=roles("200", "404", who=("coord03", "admin")),
        ),
        Call(
            kwargs=lambda ctx: {"pk": ctx.q_private.pk},
            expect=roles("200", "404", who=("planner",)),
        ),
    ],
    "queries:duplicate": [
        Call(
            "POST",
            kwargs=lambda ctx: {"pk": ctx.q_staff.pk},
            expect=roles(REDIRECT, "404", who=STAFF),
        )
    ],
    "queries:delete": [
        Call(
            "POST",
            kwargs=_fresh_query,
            expect=roles(REDIRECT, "403", who=("planner",)) | {"guest": "404"},
        )
    ],
    "queries:pin": [
        Call(
            "POST",
            kwargs=lambda ctx: {"pk": ctx.q_staff.pk},
            expect=roles(REDIRECT, "403", who=("planner",)) | {"guest": "404"},
        )
    ],
    "queries:unpin": [
        Call(
            "POST",
            kwargs=lambda ctx: {"pk": ctx.q_staff.pk},
            expect=roles(REDIRECT, "403", who=("planner",)) | {"guest": "404"},
        )
    ],
    # The pinned answer as a file: whoever sees the query; none without a pin.
    "queries:pinned-export": [
        Call(
            kwargs=lambda ctx: {"pk": ctx.q_pinned.pk, "fmt": "csv"},
            expect=roles("200", "404", who=STAFF),
        ),
        Call(
            kwargs=lambda ctx: {"pk": ctx.q_district03.pk, "fmt": "xlsx"},
            expect=every("404") | {"anonymous": LOGIN},
        ),
    ],
    "queries-api:list": [
        Call(expect=signed_in("200", API_DENIED)),
        Call(
            "POST",
            data={"title": "Per API", "selection": SELECTION},
            json_body=True,
            expect=roles("201", who=STAFF, anonymous=API_DENIED),
        ),
    ],
    "queries-api:detail": [
        Call(
            kwargs=lambda ctx: {"pk": ctx.q_staff.pk},
            expect=roles("200", "404", who=STAFF, anonymous=API_DENIED),
        ),
        Call(
            "PUT",
            kwargs=lambda ctx: {"pk": ctx.q_staff.pk},
            data={"title": "Neu", "selection": SELECTION, "sharing": "staff"},
            json_body=True,
            expect=roles("200", "403", who=("planner",), anonymous=API_DENIED)
            | {"guest": "404"},
        ),
        Call(
            "DELETE",
            kwargs=_fresh_query,
            expect=roles("204", "403", who=("planner",), anonymous=API_DENIED)
            | {"guest": "404"},
        ),
    ],
    "queries-api:result": [
        Call(
            kwargs=lambda ctx: {"pk": ctx.q_staff.pk},
            expect=roles("200", "404", who=STAFF, anonymous=API_DENIED),
        )
    ],
}


# Profiles: every signed-in role reads; writes only administrators and planners
# or coordinators of the region's district (here Bezirk 01: the planner).
# PDFs render slowly, so readers are represented by the guest and the admin.
PROFILE_READERS = ("anonymous", "guest", "admin")
PROFILE_EDITORS = ("planner", "admin")
PROFILE_REGION = "011001"


def _profile_write(outcome: str = REDIRECT) -> dict[str, str]:
    return roles(outcome, who=PROFILE_EDITORS)


def _fresh_edition(ctx):
    return {"pk": ctx.profile_edition(fresh=True).pk}


def _fresh_region(ctx):
    return {"code": ctx.free_region().code}


def _part_form(obj: str, data: dict) -> list[Call]:
    """A goal, measure or assessment form whose URL takes ``ctx.<obj>()``'s pk:
    profile editors see and save it, other readers get 403."""

    def pk(ctx):
        return {"pk": getattr(ctx, obj)().pk}

    return [
        Call(kwargs=pk, expect=roles("200", who=PROFILE_EDITORS)),
        Call("POST", kwargs=pk, data=data, expect=_profile_write()),
    ]


def _fresh_goal(ctx):
    return {"kind": "goal", "pk": ctx.profile_goal(fresh=True).pk}


GOAL = {
    "theme": "sonstiges",
    "text": "Spielplätze sanieren",
    "department": "SGA",
    "priority": "medium",
    "status": "open",
}
MEASURE = {"text": "Spielplatz Kurfürstenstraße", "status": "planned"}
ASSESSMENT = {"department": "Jugendamt", "text": "Bedarf bestätigt"}

MATRIX.update(
    {
        "profiles:list": [Call(expect=signed_in("200"))],
        "profiles:region": [
            Call(kwargs={"code": PROFILE_REGION}, expect=signed_in("200"))
        ],
        "profiles:edition-create": [
            Call("POST", kwargs=_fresh_region, expect=_profile_write())
        ],
        "profiles:edition-detail": [
            Call(
                kwargs=lambda ctx: {"pk": ctx.profile_edition().pk},
                expect=signed_in("200"),
            )
        ],
        "profiles:edition-update": [
            # The form is shown only to those who may save it.
            Call(
                kwargs=lambda ctx: {"pk": ctx.profile_edition().pk},
                expect=roles("200", who=PROFILE_EDITORS),
            ),
            Call(
                "POST",
                kwargs=lambda ctx: {"pk": ctx.profile_edition().pk},
                data={"title": "Profil Tiergarten Süd"},
                expect=_profile_write(),
            ),
        ],
        "profiles:edition-transition": [
            Call(
                "POST",
                kwargs=_fresh_edition,
                data={"status": "review"},
                expect=_profile_write(),
            )
        ],
        "profiles:edition-continue": [
            # A draft cannot be continued: editors get a message, others 403.
            Call(
                "POST",
                kwargs=lambda ctx: {"pk": ctx.profile_edition().pk},
                expect=_profile_write(),
            )
        ],
        "profiles:edition-compare": [
            Call(
                kwargs=lambda ctx: {"pk": ctx.profile_edition().pk},
                query=lambda ctx: {"with": ctx.profile_edition().pk},
                expect=signed_in("200"),
            )
        ],
        "profiles:goal-create": _part_form("profile_edition", GOAL),
        "profiles:goal-update": _part_form("profile_goal", GOAL),
        "profiles:measure-create": _part_form("profile_goal", MEASURE),
        "profiles:measure-update": _part_form("profile_measure", MEASURE),
        "profiles:assessment-create": _part_form("profile_edition", ASSESSMENT),
        "profiles:assessment-update": _part_form("profile_assessment", ASSESSMENT),
        "profiles:delete": [
            Call("POST", kwargs=_fresh_goal, expect=_profile_write()),
        ],
        "profiles:region-pdf": [
            Call(
                kwargs={"code": PROFILE_REGION},
                expect=signed_in("200"),
                only=PROFILE_READERS,
            )
        ],
        "profiles:region-kurzprofil": [
            Call(
                kwargs={"code": PROFILE_REGION},
                expect=signed_in("200"),
                only=PROFILE_READERS,
            )
        ],
        "profiles:edition-pdf": [
            Call(
                kwargs=lambda ctx: {"pk": ctx.profile_edition().pk},
                expect=signed_in("200"),
                only=PROFILE_READERS,
            )
        ],
        "profiles:edition-kurzprofil": [
            Call(
                kwargs=lambda ctx: {"pk": ctx.profile_edition().pk},
                expect=signed_in("200"),
                only=PROFILE_READERS,
            )
        ],
        # Guests start no batch of PDFs (bounded work); they read single PDFs.
        "profiles:batch": [Call(expect=signed_in("200") | {"guest": "403"})],
        "profiles-api:edition-list": [Call(expect=signed_in("200", API_DENIED))],
        "profiles-api:edition-document": [
            Call(
                kwargs=lambda ctx: {"pk": ctx.profile_edition().pk},
                expect=signed_in("200", API_DENIED),
            )
        ],
        "profiles-api:region-document": [
            Call(kwargs={"code": PROFILE_REGION}, expect=signed_in("200", API_DENIED))
        ],
        "profiles:batch-status": [
            Call(
                kwargs={"batch_id": "00000000-0000-0000-0000-000000000000"},
                expect=signed_in("404"),
            )
        ],
        "profiles:batch-status-json": [
            Call(
                kwargs={"batch_id": "00000000-0000-0000-0000-000000000000"},
                expect=signed_in("404"),
            )
        ],
        "profiles:batch-download": [
            Call(
                kwargs={"batch_id": "00000000-0000-0000-0000-000000000000"},
                expect=signed_in("404"),
            )
        ],
    }
)


# --- funding (Fördermittel) ----------------------------------------------------
#
# Programmes, areas and projects: every signed-in reader. Amounts (charts,
# report, values API): staff only, guests 403. Imports and edits: the
# coordinators of the project's district (03 here) and administrators.

FUNDING_EDIT = roles(REDIRECT, who=("coord03", "admin"))
FUNDING_RUN_READERS = roles("200", "404", who=("coord03", "admin"))


def _funding_project(ctx):
    return {"pk": ctx.funding_project().pk}


def _funding_run(ctx):
    return {"pk": ctx.funding_run().pk}


def _funding_upload(ctx):
    return {
        "file": SimpleUploadedFile(
            "massnahmen.csv", ctx.funding_csv(), content_type="text/csv"
        ),
        "district": "03",
    }


# Planning scenarios (infrastructure): staff make them; only the owner (the
# planner of Bezirk 01) changes one. A private scenario is refused to everyone
# else with the styled 403 (it says why); a shared one opens for Bezirk 01's
# planners and coordinators and administrators, not for other districts.
OWNER = ("planner",)
SHARED_READERS = ("planner", "admin")


def _fresh_scenario(ctx):
    return {"pk": ctx.scenario(fresh=True).pk}


def _fresh_change(ctx):
    scenario = ctx.scenario(fresh=True)
    return {"pk": scenario.pk, "change_pk": ctx.scenario_change(scenario).pk}


def _scenario_pk(shared: bool):
    return lambda ctx: {"pk": ctx.scenario(shared=shared).pk}


MATRIX.update(
    {
        "funding:steering": [
            Call(expect=signed_in("200")),
            Call(query={"level": "bezirk", "district": "03"}, expect=signed_in("200")),
        ],
        "funding:chart": [
            Call(
                kwargs={"kind": "timeseries", "fmt": "svg"},
                expect=signed_in("200") | {"guest": "403"},
            ),
            Call(
                kwargs={"kind": "pie", "fmt": "svg"},
                expect=signed_in("404") | {"guest": "403"},
            ),
        ],
        "funding:report": [
            Call(
                query={"bezirk": "03", "format": "xlsx"},
                expect=signed_in("200") | {"guest": "403"},
            ),
            Call(query={"format": "xlsx"}, expect=signed_in("400") | {"guest": "403"}),
        ],
        "funding:project-list": [Call(expect=signed_in("200"))],
        "funding:project-detail": [
            Call(kwargs=_funding_project, expect=signed_in("200"))
        ],
        "funding:project-update": [
            Call(
                kwargs=_funding_project, expect=roles("200", who=("coord03", "admin"))
            ),
            Call(
                "POST",
                kwargs=_funding_project,
                data=lambda ctx: {
                    "title": "Neuer Titel",
                    "programme": ctx.funding_project().programme_id,
                    "unit": ctx.funding_project().unit_id,
                    "status": "running",
                },
                expect=FUNDING_EDIT,
            ),
        ],
        "funding:amount-set": [
            Call(
                "POST",
                kwargs=_funding_project,
                data={"year": 2024, "approved": "100", "paid": "0"},
                expect=FUNDING_EDIT,
            )
        ],
        "funding:import-create": [
            Call(expect=roles("200", who=WRITERS)),
            # Coordinators of 07 may not choose district 03: the form says so.
            Call(
                "POST",
                data=_funding_upload,
                expect=roles(REDIRECT, who=("coord03", "admin")) | {"coord07": "200"},
            ),
        ],
        "funding:import-template": [
            Call(kwargs={"fmt": "csv"}, expect=signed_in("200")),
            Call(kwargs={"fmt": "xlsx"}, expect=signed_in("200")),
            Call(kwargs={"fmt": "pdf"}, expect=signed_in("404")),
        ],
        "funding:import-detail": [
            Call(kwargs=_funding_run, expect=FUNDING_RUN_READERS)
        ],
        "funding-api:values": [
            Call(
                query={"level": "bezirk"},
                expect=signed_in("200", API_DENIED) | {"guest": "403"},
            )
        ],
        "funding-api:project-list": [Call(expect=signed_in("200", API_DENIED))],
        "funding-api:area-list": [
            Call(expect=signed_in("200", API_DENIED)),
            Call(query={"district": "x"}, expect=signed_in("400", API_DENIED)),
        ],
        "funding-api:import-status": [
            Call(
                kwargs=_funding_run,
                expect=roles(
                    "200", "404", who=("coord03", "admin"), anonymous=API_DENIED
                ),
            ),
        ],
        "scenarios:list": [Call(expect=signed_in("200"))],
        "scenarios:create": [
            Call(expect=roles("200", who=STAFF)),
            Call(
                "POST",
                data=lambda ctx: {
                    "title": "Neue Kita",
                    "rule": ctx.kita_rule.pk,
                    "ref_date": "2024-12-31",
                },
                expect=roles(REDIRECT, who=STAFF),
            ),
        ],
        "scenarios:detail": [
            Call(kwargs=_scenario_pk(False), expect=roles("200", who=OWNER)),
            Call(kwargs=_scenario_pk(True), expect=roles("200", who=SHARED_READERS)),
        ],
        "scenarios:edit": [
            Call(kwargs=_scenario_pk(True), expect=roles("200", who=OWNER)),
            Call(
                "POST",
                kwargs=_scenario_pk(True),
                data={"title": "Geteilt", "ref_date": "2024-12-31", "shared": "on"},
                expect=roles(REDIRECT, who=OWNER),
            ),
        ],
        "scenarios:delete": [
            Call(kwargs=_fresh_scenario, expect=roles("405", who=STAFF)),
            Call("POST", kwargs=_fresh_scenario, expect=roles(REDIRECT, who=OWNER)),
        ],
        "scenarios:change-add": [
            Call(
                "POST",
                kwargs=_scenario_pk(True),
                data={
                    "kind": "add",
                    "name": "Kita",
                    "capacity": "90",
                    "planungsraum": "01100101",
                },
                expect=roles(REDIRECT, who=OWNER),
            ),
        ],
        "scenarios:change-delete": [
            Call("POST", kwargs=_fresh_change, expect=roles(REDIRECT, who=OWNER)),
        ],
        "scenarios:result": [
            Call(
                kwargs=_scenario_pk(True),
                query={"method": "grenzen", "level": "bezirk"},
                expect=roles("200", who=SHARED_READERS),
            ),
        ],
        "scenarios:result-status": [
            Call(
                kwargs=lambda ctx: {
                    "pk": ctx.scenario(shared=False).pk,
                    "task_id": "00000000-0000-0000-0000-000000000000",
                },
                expect=roles("200", who=OWNER),
            ),
        ],
        "scenarios:facilities": [
            Call(kwargs=_scenario_pk(True), expect=roles("200", who=SHARED_READERS)),
        ],
        "scenarios:export": [
            Call(
                kwargs=lambda ctx: {"pk": ctx.scenario(shared=True).pk, "fmt": "xlsx"},
                query={"method": "grenzen", "level": "bezirk"},
                expect=roles("200", who=SHARED_READERS),
            ),
            Call(
                kwargs=lambda ctx: {"pk": ctx.scenario(shared=False).pk, "fmt": "pdf"},
                query={"method": "grenzen", "level": "bezirk"},
                expect=roles("200", who=OWNER),
                only=("planner", "coord03"),
            ),
        ],
        # Attaching scenarios: the query's owner, the profile's editors.
        "queries:scenarios": [
            Call(
                kwargs=lambda ctx: {"pk": ctx.q_staff.pk},
                expect=roles("200", who=OWNER) | GUEST_HIDDEN,
            ),
            Call(
                "POST",
                kwargs=lambda ctx: {"pk": ctx.q_staff.pk},
                data=lambda ctx: {"scenarios": [ctx.scenario(shared=True).pk]},
                expect=roles(REDIRECT, who=OWNER) | GUEST_HIDDEN,
            ),
        ],
        "profiles:measure-scenarios": [
            Call(
                kwargs=lambda ctx: {"pk": ctx.profile_measure().pk},
                expect=roles("200", who=PROFILE_EDITORS),
            ),
            Call(
                "POST",
                kwargs=lambda ctx: {"pk": ctx.profile_measure().pk},
                data=lambda ctx: {"scenarios": [ctx.scenario(shared=True).pk]},
                expect=_profile_write(),
            ),
        ],
    }
)


# --- the Django admin: staff (administrators) only ----------------------------
#
# Its URLs are generated per model; each is covered by the rule below, applied
# to every admin URL the resolver lists (so a new model's admin is covered too).


# --- the facility register -----------------------------------------------------
# Everyone signed in reads it; the data coordinators of the facility's district
# (and administrators) create, edit, close and upload; planners and guests get
# a 403 that says who maintains it.


def _register_facility03(ctx):
    from infrastructure.models import Facility as RegisterFacility
    from infrastructure.services import facility_types_ensure

    if not hasattr(ctx, "_register03"):
        plr = LorUnit.objects.filter(
            level=LorUnit.Level.PLANUNGSRAUM, code__startswith="03"
        ).first()
        ctx._register03 = RegisterFacility.objects.create(
            facility_type=facility_types_ensure()["kita"],
            name="Kita Pankow",
            geom=plr.geom.point_on_surface,
            unit=plr,
            capacity=50,
        )
    return {"pk": ctx._register03.pk}


def _register_upload03(ctx):
    from infrastructure.models import FacilityUpload

    if not hasattr(ctx, "_upload03"):
        ctx._upload03 = FacilityUpload.objects.create(
            original_name="kitas_03.csv",
            file="facility_uploads/kitas_03.csv",
            district=ctx.bezirk["03"],
            created_by=ctx.users["coord03"],
            status=FacilityUpload.Status.FAILED,
        )
    return {"pk": ctx._upload03.pk}


def _register_create_post(ctx):
    from infrastructure.services import facility_types_ensure

    return {
        "facility_type": facility_types_ensure()["kita"].pk,
        "name": "Kita Prenzlauer Berg",
        "capacity": "60",
        "status": "open",
        "planungsraum": LorUnit.objects.filter(
            level=LorUnit.Level.PLANUNGSRAUM, code__startswith="03"
        )
        .first()
        .code,
    }


REGISTER_03 = roles("200", who=("coord03", "admin"))
REGISTER_WRITERS = roles("200", who=WRITERS)
UPLOAD_03 = {**roles("200", who=("coord03", "admin")), "coord07": "404"}

MATRIX.update(
    {
        "infrastructure:facility-list": [
            Call(expect=signed_in("200")),
            Call(
                query={"facility_type": "kita", "bezirk": "03"}, expect=signed_in("200")
            ),
        ],
        "infrastructure:facility-detail": [
            Call(kwargs=_register_facility03, expect=signed_in("200"))
        ],
        "infrastructure:facility-create": [
            Call(expect=REGISTER_WRITERS),
            Call(
                "POST",
                data=_register_create_post,
                expect=roles(REDIRECT, who=("coord03", "admin")),
            ),
        ],
        "infrastructure:facility-edit": [
            Call(kwargs=_register_facility03, expect=REGISTER_03)
        ],
        "infrastructure:facility-close": [
            Call(kwargs=_register_facility03, expect=REGISTER_03),
            Call(
                "POST",
                kwargs=_register_facility03,
                data={"on": "2025-01-01"},
                expect=roles(REDIRECT, who=("coord03", "admin")),
            ),
        ],
        "infrastructure:type-create": [Call(expect=REGISTER_WRITERS)],
        "infrastructure:upload-create": [Call(expect=REGISTER_WRITERS)],
        "infrastructure:upload-detail": [
            Call(kwargs=_register_upload03, expect=UPLOAD_03)
        ],
        "infrastructure:upload-status": [
            Call(kwargs=_register_upload03, expect=UPLOAD_03)
        ],
    }
)

# Models the admin never adds by hand: imports or the profile workflow create them.
ADMIN_WITHOUT_ADD = {
    "datapool.facilitylayer",
    "datapool.facility",
    # An import record is written by `infrastructure_import` only.
    "infrastructure.facilityimport",
    # A funding import is made by uploading a file on /funding/import/.
    "funding.fundingimport",
    "profiles.profileedition",
    # The login throttle's records (django-axes) are written by logins only.
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
}


def _admin_expectation(name: str, route: str) -> list[Call] | None:
    if name == "admin:login":
        return [Call(expect=every("200") | {"admin": REDIRECT})]
    if name == "admin:logout":
        # Non-staff are sent to the admin index (then its login); staff must POST.
        return [Call(expect=every(REDIRECT) | {"admin": "405"})]
    if not (name.startswith("admin:") or route.startswith("admin/")):
        return None
    denied = roles("200", ADMIN_LOGIN, who=("admin",), anonymous=ADMIN_LOGIN)
    if name in ("admin:index", "admin:password_change", "admin:password_change_done"):
        return [Call(expect=denied)]
    if name == "admin:jsi18n":
        return [Call(expect=denied)]
    if name == "admin:autocomplete":
        # Without its parameters the view refuses: 403 for the administrator.
        return [Call(expect=denied | {"admin": "403"})]
    if name == "admin:app_list":
        return [Call(kwargs={"app_label": "datapool"}, expect=denied)]
    if name == "admin:view_on_site":
        return [
            Call(
                kwargs=lambda ctx: {
                    "content_type_id": ctx.variable_ct,
                    "object_id": ctx.e_e.pk,
                },
                expect=denied | {"admin": REDIRECT},
            )
        ]
    if name == "admin:auth_user_password_change":
        return [Call(kwargs=lambda ctx: {"id": ctx.users["guest"].pk}, expect=denied)]
    if not name and route.endswith("<path:object_id>/"):
        # The object URL without /change/ redirects to the change page.
        app_label, model_name = route.split("/")[1:3]
        model = apps.get_model(app_label, model_name)
        base = route.split("<")[0]
        return [
            Call(
                path=lambda ctx, model=model, base=base: (
                    f"/{base}{ctx.instance_pk(model) or 0}/"
                ),
                expect=denied | {"admin": REDIRECT},
            )
        ]
    if not name:
        # The catch-all of unknown admin paths.
        return [Call(path="/admin/nope/", expect=denied | {"admin": "404"})]
    app_model, _sep, action = name.removeprefix("admin:").rpartition("_")
    model = _admin_model(app_model)
    label = model._meta.label_lower if model is not None else ""
    read_only = label == "core.auditevent"
    if action == "changelist":
        return [Call(expect=denied)]
    if action == "add":
        no_add = read_only or label in ADMIN_WITHOUT_ADD
        return [Call(expect=denied | ({"admin": "403"} if no_add else {}))]
    if action in ("change", "history", "delete"):
        allowed = "403" if read_only and action == "delete" else "200"

        def admin_outcome(ctx, model=model, allowed=allowed):
            # The admin redirects to its index for objects that do not exist.
            return allowed if ctx.instance_pk(model) else REDIRECT

        return [
            Call(
                kwargs=lambda ctx, model=model: {
                    "object_id": ctx.instance_pk(model) or "0"
                },
                expect=denied | {"admin": admin_outcome},
            )
        ]
    return None


def _admin_model(app_model: str):
    for model in apps.get_models():
        if f"{model._meta.app_label}_{model._meta.model_name}" == app_model:
            return model
    return None


# --- walking the URLconf --------------------------------------------------------


def url_entries() -> list[tuple[str, str]]:
    """(name or route, route) of every URL pattern, namespaces included."""
    found: list[tuple[str, str]] = []

    def walk(resolver, prefix: str, namespace: str | None) -> None:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                ns = pattern.namespace
                inner = f"{namespace}:{ns}" if namespace and ns else ns or namespace
                walk(pattern, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                name = pattern.name
                full = f"{namespace}:{name}" if namespace and name else name
                found.append((full or "", route))

    walk(get_resolver(), "", None)
    return found


def calls_for(name: str, route: str) -> list[Call] | None:
    if name in MATRIX:
        return MATRIX[name]
    return _admin_expectation(name, route)


def test_every_url_has_a_matrix_entry():
    missing = [
        name or route for name, route in url_entries() if calls_for(name, route) is None
    ]
    assert not missing, f"URLs without an entry in the access matrix: {missing}"


def test_matrix_has_no_stale_entries():
    names = {name for name, _route in url_entries()}
    assert not set(MATRIX) - names


# --- the requests ----------------------------------------------------------------


class Context:
    """Real data for the requests: users per role, variables, runs, queries."""

    def __init__(self, django_user_model, ewr_run: ImportRun):
        self.run_berlin = ewr_run
        self.bezirk = {
            code: LorUnit.objects.get(
                scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK, code=code
            )
            for code in ("01", "03", "07")
        }
        self.users = {}
        for name, role, code in [
            ("guest", Role.GUEST, None),
            ("planner", Role.PLANNER, "01"),
            ("coord03", Role.COORDINATOR, "03"),
            ("coord07", Role.COORDINATOR, "07"),
            ("admin", Role.ADMIN, None),
        ]:
            self.users[name] = UserFactory(
                username=f"matrix-{name}", role=role, bezirk_code=code
            )
        # A guest may also be a user without any PRISMA group (least privilege).
        assert (
            not self.users["guest"]
            .groups.exclude(name=Group.objects.get(name="Gastbegutachtung").name)
            .exists()
        )
        self.e_e = Variable.objects.get(key="E_E")
        self.variable_ct = str(
            apps.get_model("contenttypes", "ContentType")
            .objects.get_for_model(Variable)
            .pk
        )
        self.var03 = self._district_variable("03", released=False)
        self.var07 = self._district_variable("07", released=True)
        plr03 = (
            LorUnit.objects.filter(
                level=LorUnit.Level.PLANUNGSRAUM, code__startswith="03"
            )
            .order_by("code")
            .values_list("code", flat=True)[:3]
        )
        self.csv_03 = (
            "PLR;Spielplaetze\n"
            + "".join(f"{c};{i + 2}\n" for i, c in enumerate(plr03))
        ).encode()
        self.run03 = import_run_create(
            kind=ImportRun.Kind.TABLE,
            upload=SimpleUploadedFile("spielplaetze_03.csv", self.csv_03),
            original_name="spielplaetze_03.csv",
            user=self.users["coord03"],
            status=ImportRun.Status.FAILED,
        )
        self.layer_berlin = self._facility_layer("matrix_berlin", None)
        self.layer03 = self._facility_layer("matrix_b03", "03")
        self.layer_hidden = self._facility_layer(
            "matrix_vertraulich", None, location_confidential=True
        )
        self.q_staff = saved_query_create(
            owner=self.users["planner"],
            title="Einwohner je Bezirk",
            selection=SELECTION,
            sharing=SavedQuery.Sharing.STAFF,
        )
        self.q_district03 = saved_query_create(
            owner=self.users["coord03"],
            title="Nur Bezirk 03",
            selection=SELECTION,
            sharing=SavedQuery.Sharing.DISTRICT,
            district=self.bezirk["03"],
        )
        self.q_private = saved_query_create(
            owner=self.users["planner"], title="Privat", selection=SELECTION
        )
        self.q_pinned = saved_query_pin(
            query=saved_query_create(
                owner=self.users["planner"],
                title="Festgeschrieben",
                selection=SELECTION,
                sharing=SavedQuery.Sharing.STAFF,
            ),
            user=self.users["planner"],
        )

    def _district_variable(self, code: str, *, released: bool) -> Variable:
        variable = Variable.objects.create(
            key=f"B{code}_SPIELPLAETZE",
            name=f"Spielplätze Bezirk {code}",
            district=self.bezirk[code],
            released=released,
        )
        unit = self.bezirk[code]
        Observation.objects.create(
            variable=variable,
            unit=unit,
            ref_date=date(2024, 12, 31),
            value=12,
            import_run=self.run_berlin,
        )
        return variable

    def _facility_layer(
        self, key: str, code: str | None, *, location_confidential: bool = False
    ) -> FacilityLayer:
        """A layer with one point and its count variable, as an import leaves it."""
        district = self.bezirk[code] if code else None
        layer = FacilityLayer.objects.create(
            key=key,
            name=f"Einrichtungen {key}",
            import_run=self.run_berlin,
            district=district,
            location_confidential=location_confidential,
        )
        Variable.objects.create(
            key=layer.count_variable_key,
            name=f"Anzahl {key}",
            value_type=Variable.ValueType.COUNT,
            district=district,
            released=district is None,
        )
        plr = LorUnit.objects.filter(
            level=LorUnit.Level.PLANUNGSRAUM, code__startswith=code or "01"
        ).first()
        Facility.objects.create(
            layer=layer,
            feature_number=1,
            name="Einrichtung",
            geom=plr.geom.point_on_surface,
            unit=plr,
        )
        return layer

    # Funding: a project in a Planungsraum of Bezirk 03 and a failed import there.

    def funding_project(self):
        from funding.models import Programme, Project

        if not hasattr(self, "_funding_project"):
            programme, _ = Programme.objects.get_or_create(
                key="matrix-programm", defaults={"name": "Matrix-Programm"}
            )
            plr = (
                LorUnit.objects.filter(
                    level=LorUnit.Level.PLANUNGSRAUM, code__startswith="03"
                )
                .order_by("code")
                .first()
            )
            self._funding_project = Project.objects.create(
                number="M-1",
                title="Matrix-Maßnahme",
                district=self.bezirk["03"],
                programme=programme,
                unit=plr,
            )
        return self._funding_project

    def funding_csv(self) -> bytes:
        plr = self.funding_project().unit.code
        return (
            "Projektnummer;Maßnahme;Programm;Planungsraum;Jahr;Bewilligt (EUR)\n"
            f"M-2;Upload;matrix-programm;{plr};2024;1.000,00\n"
        ).encode()

    def funding_run(self):
        from funding.models import FundingImport

        if not hasattr(self, "_funding_run"):
            self._funding_run = FundingImport.objects.create(
                file="funding/matrix.csv",
                original_name="matrix.csv",
                district=self.bezirk["03"],
                created_by=self.users["coord03"],
                status=FundingImport.Status.FAILED,
            )
        return self._funding_run

    # Profiles: one edition of a Bezirksregion of Bezirk 01 with a goal, a
    # measure and an assessment, made by the district's planner.

    def profile_edition(self, *, fresh: bool = False):
        from profiles import services

        if fresh or not hasattr(self, "_edition"):
            edition = services.profile_edition_create(
                user=self.users["planner"],
                region=self.free_region() if fresh else self._region(PROFILE_REGION),
            )
            if fresh:
                return edition
            self._edition = edition
        return self._edition

    def profile_goal(self, *, fresh: bool = False):
        from profiles import services

        if fresh or not hasattr(self, "_goal"):
            goal = services.goal_save(
                user=self.users["planner"], edition=self.profile_edition(), **GOAL
            )
            if fresh:
                return goal
            self._goal = goal
        return self._goal

    def profile_measure(self):
        from profiles import services

        if not hasattr(self, "_measure"):
            self._measure = services.measure_save(
                user=self.users["planner"], goal=self.profile_goal(), **MEASURE
            )
        return self._measure

    def profile_assessment(self):
        from profiles import services

        if not hasattr(self, "_assessment"):
            self._assessment = services.assessment_save(
                user=self.users["planner"],
                edition=self.profile_edition(),
                **ASSESSMENT,
            )
        return self._assessment

    # Planning scenarios of the planner (Bezirk 01) on the seeded Kita rule.

    @property
    def kita_rule(self):
        from tests.infrastructure.scenario_support import kita_rule

        return kita_rule()

    def scenario(self, *, shared: bool = False, fresh: bool = False):
        from infrastructure.scenarios import scenario_create

        name = f"_scenario_{shared}"
        if fresh or not hasattr(self, name):
            scenario = scenario_create(
                owner=self.users["planner"],
                title="Geteilt" if shared else "Privat",
                rule=self.kita_rule,
                ref_date=date(2024, 12, 31),
                shared=shared,
            )
            if fresh:
                return scenario
            setattr(self, name, scenario)
        return getattr(self, name)

    def scenario_change(self, scenario):
        from infrastructure.scenarios import plr_point_on_surface, scenario_change_add

        return scenario_change_add(
            scenario=scenario,
            user=self.users["planner"],
            kind="add",
            geom=plr_point_on_surface(code="01100101"),
            capacity=90,
        )

    def _region(self, code: str) -> LorUnit:
        return LorUnit.objects.get(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRKSREGION, code=code
        )

    def free_region(self) -> LorUnit:
        """A Bezirksregion of Bezirk 01 without a profile yet."""
        from profiles.models import Profile

        taken = Profile.objects.values_list("region_id", flat=True)
        return (
            LorUnit.objects.filter(
                scheme=LorUnit.Scheme.LOR_2021,
                level=LorUnit.Level.BEZIRKSREGION,
                code__startswith="01",
            )
            .exclude(pk__in=taken)
            .exclude(code=PROFILE_REGION)
            .order_by("code")
            .first()
        )

    def instance_pk(self, model) -> str | None:
        # The last object: early LOR units and variables have thousands of
        # dependants, which the admin's delete page would list one by one.
        obj = model._default_manager.order_by("pk").last()
        return str(obj.pk) if obj is not None else None


def _outcome(response) -> str:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(reverse("admin:login")):
            return ADMIN_LOGIN
        if location.startswith(reverse("login")):
            return LOGIN
        return REDIRECT
    return str(response.status_code)


def _request(client, call: Call, ctx, name: str):
    if call.path:
        url = _value(call.path, ctx)
    else:
        url = reverse(name, kwargs=_value(call.kwargs, ctx))
    query = _value(call.query, ctx)
    data = _value(call.data, ctx) if call.data is not None else None
    method = call.method.lower()
    if method == "get":
        return client.get(url, query)
    if query:
        from urllib.parse import urlencode

        url = f"{url}?{urlencode(query)}"
    if call.json_body:
        return getattr(client, method)(
            url, json.dumps(data or {}), content_type="application/json"
        )
    if method == "post":
        return client.post(url, data or {})
    return getattr(client, method)(url)


@pytest.fixture
def ctx(django_user_model, ewr_imported):
    return Context(django_user_model, ewr_imported)


def test_role_endpoint_matrix(client, ctx, django_capture_on_commit_callbacks):
    """Every URL × every role: the outcome the matrix expects, from real requests."""
    failures = []
    checked = 0
    for name, route in url_entries():
        for call in calls_for(name, route) or []:
            for role in ROLES:
                if role not in call.only:
                    continue
                client.logout()
                if role != "anonymous":
                    client.force_login(ctx.users[role])
                response = _request(client, call, ctx, name)
                got = _outcome(response)
                expected = _value(call.expect[role], ctx)
                checked += 1
                if got != expected:
                    failures.append(
                        f"{call.method} {name or route} as {role}: "
                        f"expected {expected}, got {got}"
                    )
    assert not failures, "\n".join(failures)
    assert checked > 400
