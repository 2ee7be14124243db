from django.urls import path

from . import analyse_views, area_views, explorer_views, export_views

app_name = "analysis"

urlpatterns = [
    path("explorer/", explorer_views.ExplorerView.as_view(), name="explorer"),
    path("areas/", area_views.CustomAreaSetListView.as_view(), name="area-set-list"),
    path(
        "areas/new/",
        area_views.CustomAreaSetCreateView.as_view(),
        name="area-set-create",
    ),
    path(
        "areas/<int:pk>/delete/",
        area_views.CustomAreaSetDeleteView.as_view(),
        name="area-set-delete",
    ),
    path(
        "export/", export_views.SelectionExportView.as_view(), name="selection-export"
    ),
    path("analyse/", analyse_views.AnalyseView.as_view(), name="analyse"),
    path(
        "charts/<str:kind>.<str:fmt>",
        analyse_views.ChartView.as_view(),
        name="chart",
    ),
]
