from django.urls import path

from . import views

app_name = "maps"

urlpatterns = [
    path("geometry/<str:level>/", views.GeometryApi.as_view(), name="geometry"),
    path("values/", views.MapValuesApi.as_view(), name="values"),
]
