FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core postgresql-client poppler-utils \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The runtime lock only (gunicorn included, pinned with its hash): no test, lint or devkit packages.
COPY requirements.lock .
RUN pip install --no-cache-dir --no-deps --require-hashes -r requirements.lock && pip check
# .dockerignore keeps var/ (signing keys), databases, virtualenvs, tests, bench and devkit out.
COPY . .
# Static files (admin, Swagger UI) collected into var/static, compressed; WhiteNoise serves them.
RUN python manage.py collectstatic --noinput --verbosity 0
RUN useradd --system ledger && mkdir -p /keys && chown ledger /keys
USER ledger
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000"]
