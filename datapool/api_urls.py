from django.urls import path

from . import api

app_name = "datapool-api"

urlpatterns = [
    path("variables/", api.VariableListApi.as_view(), name="variable-list"),
    path(
        "variables/<str:key>/", api.VariableDetailApi.as_view(), name="variable-detail"
    ),
    path("values/", api.ValuesApi.as_view(), name="values"),
    path("values/series/", api.ValueSeriesApi.as_view(), name="value-series"),
    path("indicators/", api.IndicatorListApi.as_view(), name="indicator-list"),
    path("facilities/", api.FacilityLayerListApi.as_view(), name="facility-layers"),
    path(
        "facilities/<slug:key>/",
        api.FacilityLayerPointsApi.as_view(),
        name="facility-points",
    ),
    path("imports/", api.ImportRunCreateApi.as_view(), name="import-create"),
    path("imports/<int:pk>/", api.ImportRunStatusApi.as_view(), name="import-status"),
]
