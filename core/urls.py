from django.urls import path

from .views import AuditEventListView

# No namespace: the audit page has been reachable as "audit-list" since it existed.
urlpatterns = [
    path("", AuditEventListView.as_view(), name="audit-list"),
]
