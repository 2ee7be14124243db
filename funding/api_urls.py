from django.urls import path

from . import api

app_name = "funding-api"

urlpatterns = [
    path("values/", api.FundingValuesApi.as_view(), name="values"),
    path("projects/", api.ProjectListApi.as_view(), name="project-list"),
    path("areas/", api.FundingAreaListApi.as_view(), name="area-list"),
    path("imports/<int:pk>/", api.ImportStatusApi.as_view(), name="import-status"),
]
