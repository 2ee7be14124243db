FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends gdal-bin libgdal-dev gettext curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .
COPY . .
ENV DJANGO_SETTINGS_MODULE=prisma.settings.production
RUN SECRET_KEY=build-only ALLOWED_HOSTS=localhost DATABASE_URL=postgis://build@localhost/build \
    python manage.py compilemessages --ignore=.venv \
 && SECRET_KEY=build-only ALLOWED_HOSTS=localhost DATABASE_URL=postgis://build@localhost/build \
    python manage.py collectstatic --noinput
USER nobody
EXPOSE 8000
