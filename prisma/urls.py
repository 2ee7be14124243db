from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated

from explorer.api import SelectionTableApi
from lor.api import CrosswalkApi, CustomAreaSetListApi
from start.views import StartView

from . import views

urlpatterns = [
    path("", StartView.as_view(), name="home"),
    path("health/", views.health, name="health"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/lor/", include("lor.api_urls")),
    path("api/maps/", include("explorer.maps.urls")),
    path("api/areas/", CustomAreaSetListApi.as_view(), name="api-area-sets"),
    path("api/crosswalk/", CrosswalkApi.as_view(), name="api-crosswalk"),
    path(
        "api/analysis/table/", SelectionTableApi.as_view(), name="api-selection-table"
    ),
    path("api/queries/", include("queries.api_urls")),
    path("api/profiles/", include("profiles.api_urls")),
    path("api/funding/", include("funding.api_urls")),
    path("api/", include("datapool.api_urls")),
    path("datapool/", include("datapool.urls")),
    path("analysis/", include("explorer.urls")),
    path("queries/", include("queries.urls")),
    path("profiles/", include("profiles.urls")),
    path("facilities/", include("infrastructure.urls")),
    path("funding/", include("funding.urls")),
    path("infrastructure/scenarios/", include("infrastructure.scenario_urls")),
    # The schema and its docs describe staff-only endpoints: sign-in required.
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]),
        name="api-schema",
    ),
    path(
        "api/docs/",
        # The split view serves its init script as a file: no inline script (CSP).
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", permission_classes=[IsAuthenticated]
        ),
        name="api-docs",
    ),
    path("audit/", include("core.urls")),
    path("", include("lor.urls")),
]

# Error pages in the site layout, with the reason and a way on (prisma/errors.py).
handler403 = "prisma.errors.permission_denied"
handler404 = "prisma.errors.page_not_found"
handler500 = "prisma.errors.server_error"
