from django.urls import include, path

from . import views

app_name = "profiles"

# Editing and HTML views; PDF, Kurzprofil and batch routes live in pdf_urls.
urlpatterns: list = [
    path("", views.ProfileListView.as_view(), name="list"),
    path("region/<str:code>/", views.ProfileRegionView.as_view(), name="region"),
    path(
        "region/<str:code>/new/",
        views.EditionCreateView.as_view(),
        name="edition-create",
    ),
    path(
        "editions/<int:pk>/", views.EditionDetailView.as_view(), name="edition-detail"
    ),
    path(
        "editions/<int:pk>/edit/",
        views.EditionUpdateView.as_view(),
        name="edition-update",
    ),
    path(
        "editions/<int:pk>/status/",
        views.EditionTransitionView.as_view(),
        name="edition-transition",
    ),
    path(
        "editions/<int:pk>/continue/",
        views.EditionContinueView.as_view(),
        name="edition-continue",
    ),
    path(
        "editions/<int:pk>/compare/",
        views.EditionCompareView.as_view(),
        name="edition-compare",
    ),
    path(
        "editions/<int:pk>/goals/new/",
        views.PartFormView.as_view(part="goal", creating=True),
        name="goal-create",
    ),
    path(
        "goals/<int:pk>/edit/",
        views.PartFormView.as_view(part="goal"),
        name="goal-update",
    ),
    path(
        "goals/<int:pk>/measures/new/",
        views.PartFormView.as_view(part="measure", creating=True),
        name="measure-create",
    ),
    path(
        "measures/<int:pk>/edit/",
        views.PartFormView.as_view(part="measure"),
        name="measure-update",
    ),
    path(
        "measures/<int:pk>/scenarios/",
        views.MeasureScenariosView.as_view(),
        name="measure-scenarios",
    ),
    path(
        "editions/<int:pk>/assessments/new/",
        views.PartFormView.as_view(part="assessment", creating=True),
        name="assessment-create",
    ),
    path(
        "assessments/<int:pk>/edit/",
        views.PartFormView.as_view(part="assessment"),
        name="assessment-update",
    ),
    path("<str:kind>/<int:pk>/delete/", views.DeleteView.as_view(), name="delete"),
    path("", include("profiles.pdf_urls")),
]
