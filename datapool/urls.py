from django.urls import path

from . import views

app_name = "datapool"

urlpatterns = [
    path("", views.VariableListView.as_view(), name="variable-list"),
    path(
        "variables/<str:key>/",
        views.VariableDetailView.as_view(),
        name="variable-detail",
    ),
    path(
        "variables/<str:key>/edit/",
        views.VariableEditView.as_view(),
        name="variable-edit",
    ),
    path(
        "variables/<str:key>/release/",
        views.VariableReleaseView.as_view(),
        name="variable-release",
    ),
    path(
        "variables/<str:key>/chart.svg",
        views.VariableChartView.as_view(),
        name="variable-chart",
    ),
    path(
        "facilities/<slug:key>/location/",
        views.FacilityLayerLocationView.as_view(),
        name="facility-layer-location",
    ),
    path("indicators/", views.IndicatorListView.as_view(), name="indicator-list"),
    path(
        "indicators/recompute/",
        views.IndicatorRecomputeView.as_view(),
        name="indicator-recompute",
    ),
    path("imports/", views.ImportListView.as_view(), name="import-list"),
    path("imports/new/", views.ImportCreateView.as_view(), name="import-create"),
    path("imports/<int:pk>/", views.ImportDetailView.as_view(), name="import-detail"),
    path(
        "imports/<int:pk>/mapping/",
        views.ImportMappingView.as_view(),
        name="import-mapping",
    ),
    path(
        "imports/<int:pk>/resolve/",
        views.ImportResolveView.as_view(),
        name="import-resolve",
    ),
    path(
        "imports/<int:pk>/retry/", views.ImportRetryView.as_view(), name="import-retry"
    ),
]
