from django.urls import path

from . import scenario_views as views

app_name = "scenarios"

urlpatterns = [
    path("", views.ScenarioListView.as_view(), name="list"),
    path("new/", views.ScenarioCreateView.as_view(), name="create"),
    path("<int:pk>/", views.ScenarioDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.ScenarioEditView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.ScenarioDeleteView.as_view(), name="delete"),
    path("<int:pk>/changes/", views.ScenarioChangeAddView.as_view(), name="change-add"),
    path(
        "<int:pk>/changes/<int:change_pk>/delete/",
        views.ScenarioChangeDeleteView.as_view(),
        name="change-delete",
    ),
    path("<int:pk>/result/", views.ScenarioResultView.as_view(), name="result"),
    path(
        "<int:pk>/result/<str:task_id>/",
        views.ScenarioResultStatusView.as_view(),
        name="result-status",
    ),
    path(
        "<int:pk>/facilities/",
        views.ScenarioFacilitiesView.as_view(),
        name="facilities",
    ),
    path(
        "<int:pk>/export.<str:fmt>", views.ScenarioExportView.as_view(), name="export"
    ),
]
