from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class GermanFirstLocaleMiddleware(LocaleMiddleware):
    """German unless the user chose another language; the browser's wish is ignored.

    Staff machines in the administration often run English browsers; PRISMA's
    terms (Bezirksregion, Kernindikator) are German, so German is the default and
    English is an explicit choice (stored in the language cookie).
    """

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        available = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
