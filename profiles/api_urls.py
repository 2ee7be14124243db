from django.urls import path

from . import api

app_name = "profiles-api"

urlpatterns = [
    path("", api.ProfileEditionListApi.as_view(), name="edition-list"),
    path(
        "editions/<int:pk>/",
        api.ProfileEditionDocumentApi.as_view(),
        name="edition-document",
    ),
    path(
        "regions/<str:code>/",
        api.ProfileRegionDocumentApi.as_view(),
        name="region-document",
    ),
]
