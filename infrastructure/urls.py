from django.urls import path

from . import views

app_name = "infrastructure"

urlpatterns = [
    path("", views.FacilityListView.as_view(), name="facility-list"),
    path("new/", views.FacilityCreateView.as_view(), name="facility-create"),
    path("<int:pk>/", views.FacilityDetailView.as_view(), name="facility-detail"),
    path("<int:pk>/edit/", views.FacilityEditView.as_view(), name="facility-edit"),
    path("<int:pk>/close/", views.FacilityCloseView.as_view(), name="facility-close"),
    path("types/new/", views.FacilityTypeCreateView.as_view(), name="type-create"),
    path(
        "uploads/new/", views.FacilityUploadCreateView.as_view(), name="upload-create"
    ),
    path(
        "uploads/<int:pk>/",
        views.FacilityUploadDetailView.as_view(),
        name="upload-detail",
    ),
    path(
        "uploads/<int:pk>/status/",
        views.FacilityUploadStatusView.as_view(),
        name="upload-status",
    ),
]
