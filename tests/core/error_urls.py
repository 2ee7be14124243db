"""The project's URLs plus one view that fails, to see the 500 page."""

from django.urls import path

from prisma import urls


def boom(request):
    raise RuntimeError("kaputt")


urlpatterns = [path("test-boom/", boom), *urls.urlpatterns]
handler403 = urls.handler403
handler404 = urls.handler404
handler500 = urls.handler500
