from django.urls import path

from . import api

app_name = "lor-api"

urlpatterns = [
    path("units/", api.LorUnitListApi.as_view(), name="unit-list"),
    path("units/<str:code>/", api.LorUnitDetailApi.as_view(), name="unit-detail"),
]
