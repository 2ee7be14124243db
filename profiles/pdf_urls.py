"""PDF, Kurzprofil and batch routes; included by profiles.urls (namespace profiles)."""

from django.urls import path

from . import pdf_views

urlpatterns = [
    path(
        "region/<str:code>/pdf/",
        pdf_views.RegionPdfView.as_view(),
        name="region-pdf",
    ),
    path(
        "region/<str:code>/kurzprofil.pdf",
        pdf_views.RegionPdfView.as_view(variant="short"),
        name="region-kurzprofil",
    ),
    path(
        "editions/<int:pk>/pdf/",
        pdf_views.EditionPdfView.as_view(),
        name="edition-pdf",
    ),
    path(
        "editions/<int:pk>/kurzprofil.pdf",
        pdf_views.EditionPdfView.as_view(variant="short"),
        name="edition-kurzprofil",
    ),
    path("batch/", pdf_views.BatchFormView.as_view(), name="batch"),
    path(
        "batch/<uuid:batch_id>/",
        pdf_views.BatchStatusView.as_view(),
        name="batch-status",
    ),
    path(
        "batch/<uuid:batch_id>/status.json",
        pdf_views.BatchStatusJsonView.as_view(),
        name="batch-status-json",
    ),
    path(
        "batch/<uuid:batch_id>/download/",
        pdf_views.BatchDownloadView.as_view(),
        name="batch-download",
    ),
]
