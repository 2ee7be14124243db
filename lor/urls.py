from django.urls import path

from . import views

app_name = "lor"

urlpatterns = [
    path("map/", views.LorMapView.as_view(), name="map"),
    path("lor/<str:code>/", views.LorUnitDetailView.as_view(), name="unit-detail"),
]
