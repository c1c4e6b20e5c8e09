# One image for every OMS process; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 oms
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=oms:oms . .
RUN OMS_DEV=1 OMS_FERNET_KEYS=unused-at-build DATABASE_URL=postgresql://build@localhost/none REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput --verbosity 0

USER oms
EXPOSE 8000 50051 9100
CMD ["gunicorn", "-c", "oms_project/gunicorn_conf.py", "oms_project.wsgi:application"]
