from django.urls import include, path

app_name = "profiles"

# Editing and HTML views; PDF, Kurzprofil and batch routes live in pdf_urls.
urlpatterns: list = [
    path("", include("profiles.pdf_urls")),
]
