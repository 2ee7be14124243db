from django.urls import path

from . import views

app_name = "funding"

urlpatterns = [
    path("", views.SteeringView.as_view(), name="steering"),
    path("charts/<str:kind>.<str:fmt>", views.ChartView.as_view(), name="chart"),
    path("bericht/", views.ReportView.as_view(), name="report"),
    path("projekte/", views.ProjectListView.as_view(), name="project-list"),
    path(
        "projekte/<int:pk>/", views.ProjectDetailView.as_view(), name="project-detail"
    ),
    path(
        "projekte/<int:pk>/bearbeiten/",
        views.ProjectUpdateView.as_view(),
        name="project-update",
    ),
    path(
        "projekte/<int:pk>/betraege/", views.AmountSetView.as_view(), name="amount-set"
    ),
    path("import/", views.ImportCreateView.as_view(), name="import-create"),
    path(
        "import/vorlage.<str:fmt>",
        views.TemplateDownloadView.as_view(),
        name="import-template",
    ),
    path("import/<int:pk>/", views.ImportDetailView.as_view(), name="import-detail"),
]
