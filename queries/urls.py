from django.urls import path

from . import views

app_name = "queries"

urlpatterns = [
    path("", views.SavedQueryListView.as_view(), name="list"),
    path("new/", views.SavedQueryCreateView.as_view(), name="create"),
    path("<int:pk>/", views.SavedQueryDetailView.as_view(), name="detail"),
    path(
        "<int:pk>/duplicate/",
        views.SavedQueryDuplicateView.as_view(),
        name="duplicate",
    ),
    path("<int:pk>/delete/", views.SavedQueryDeleteView.as_view(), name="delete"),
    path(
        "<int:pk>/scenarios/", views.SavedQueryScenariosView.as_view(), name="scenarios"
    ),
    path("<int:pk>/pin/", views.SavedQueryPinView.as_view(), name="pin"),
    path("<int:pk>/unpin/", views.SavedQueryUnpinView.as_view(), name="unpin"),
    path(
        "<int:pk>/pinned.<str:fmt>",
        views.SavedQueryPinnedExportView.as_view(),
        name="pinned-export",
    ),
]
