from django.urls import path

from . import explorer_views, export_views, views

app_name = "analysis"

urlpatterns = [
    path("explorer/", explorer_views.ExplorerView.as_view(), name="explorer"),
    path("areas/", views.CustomAreaSetListView.as_view(), name="area-set-list"),
    path("areas/new/", views.CustomAreaSetCreateView.as_view(), name="area-set-create"),
    path(
        "areas/<int:pk>/delete/",
        views.CustomAreaSetDeleteView.as_view(),
        name="area-set-delete",
    ),
    path(
        "export/", export_views.SelectionExportView.as_view(), name="selection-export"
    ),
]
