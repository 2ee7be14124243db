from django.urls import path

from . import api

app_name = "queries-api"

urlpatterns = [
    path("", api.SavedQueryListApi.as_view(), name="list"),
    path("<int:pk>/", api.SavedQueryDetailApi.as_view(), name="detail"),
    path("<int:pk>/result/", api.SavedQueryResultApi.as_view(), name="result"),
]
