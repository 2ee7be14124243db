from django.urls import path

from . import views

app_name = "analysis"

urlpatterns = [
    path("areas/", views.CustomAreaSetListView.as_view(), name="area-set-list"),
    path("areas/new/", views.CustomAreaSetCreateView.as_view(), name="area-set-create"),
    path(
        "areas/<int:pk>/delete/",
        views.CustomAreaSetDeleteView.as_view(),
        name="area-set-delete",
    ),
]
