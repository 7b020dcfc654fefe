# syntax=docker/dockerfile:1
# The order management engine: one image for the API (default command), the worker and migrations.
#
#   docker build -t oms-engine .
#   docker run ... oms-engine                                   API (uvicorn on :8000)
#   docker run ... oms-engine python worker.py                  a Temporal worker
#   docker run ... oms-engine python -m persistence.migrate     Alembic to head
#
# No secret is baked in: every OMS_* secret comes from the environment at run time, and with
# OMS_ENV=production (the default here) the engine refuses to start with the development placeholders.
# docker-compose.yml wires all of it up.

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: a virtualenv with the project and its dependencies ---------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# Dependencies first, from pyproject.toml alone: a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

COPY . .
RUN pip install .

# --- runtime -------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="oms" \
      org.opencontainers.image.description="Order management and fulfilment engine on Temporal" \
      org.opencontainers.image.licenses="Apache-2.0"

RUN groupadd --system --gid 10001 oms \
    && useradd --system --uid 10001 --gid oms --home-dir /app --no-create-home --shell /usr/sbin/nologin oms

COPY --from=build /opt/venv /opt/venv

# The source tree at /app is what runs: `python worker.py` runs the file from here, and PYTHONPATH
# puts /app ahead of the copy pip installed into the venv, so uvicorn, `python -m` and scripts all
# import one tree and config.PROJECT_ROOT is /app, next to alembic.ini and migrations/ (alembic.ini
# is not installed as package data). Owned by root: the engine cannot rewrite its own code.
WORKDIR /app
COPY . /app
RUN python -m compileall -q /app \
    && mkdir -p /app/var \
    && chown oms:oms /app/var

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OMS_ENV=production \
    OMS_API_HOST=0.0.0.0 \
    OMS_API_PORT=8000

USER 10001:10001
EXPOSE 8000

# Exec form: uvicorn (or the worker) is PID 1 and gets SIGTERM directly for a graceful stop.
CMD ["uvicorn", "--factory", "api.main:create_app", "--host", "0.0.0.0", "--port", "8000"]
