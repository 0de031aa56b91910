# Telsam Panel: one image for every role (web, worker, beat, migrate); compose picks the command.
# Slim Python, dependencies in their own layer, static files collected at build time and served by
# whitenoise, and a non-root user at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # The project runs from its source tree (templates, locale and static live beside the code).
    PYTHONPATH=/app \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app

# Dependencies first: this layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY manage.py ./
COPY telsam_panel ./telsam_panel
COPY calls ./calls
COPY customers ./customers
COPY templates ./templates
COPY static ./static
COPY locale ./locale

# Hashed, compressed static files for whitenoise. Settings refuse to load without a SECRET_KEY
# when DEBUG is off; collecting signs nothing, so this one command gets a throwaway key, which is
# not kept in the image (the running container reads its own from the environment).
RUN SECRET_KEY=build-only-key-collectstatic-signs-nothing python manage.py collectstatic --noinput --verbosity 0

RUN useradd --system --uid 10001 --no-create-home --home-dir /app telsam
USER telsam

EXPOSE 8000
# The web server; the worker, beat and migrate services override the command (docker-compose.yml).
CMD ["python", "-m", "telsam_panel.web", "--host", "0.0.0.0", "--port", "8000"]
