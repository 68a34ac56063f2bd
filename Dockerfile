# The reporting_assets code location as a container image, built from its wheel.
#   docker build -t registry.example.com/reporting-assets:0.1.0 .
# Runs as a gRPC code server on port 4000 (docs/deploy.md); the Helm chart and the run launcher
# override the command (`dagster api grpc ...`, `dagster api execute_run ...`), so it is a CMD.

# --- build: the project's wheel plus wheels of every dependency ------------------------------
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md dagster.yaml ./
COPY reporting_assets ./reporting_assets
RUN pip install --no-cache-dir --upgrade pip \
 && pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
 && pip wheel --no-cache-dir --wheel-dir /wheels "$(ls /wheels/reporting_assets-*.whl)[k8s]"

# --- runtime: only the installed wheels, a non-root user, state in DAGSTER_HOME ---------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    REPORTING_HOME=/opt/dagster/dagster_home
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels "reporting_assets[k8s]" \
 && useradd --create-home --uid 10001 --user-group dagster \
 && mkdir -p "$DAGSTER_HOME" /var/lib/reporting/reports \
 && chown -R dagster:dagster "$DAGSTER_HOME" /var/lib/reporting
USER dagster
WORKDIR /opt/dagster/dagster_home
EXPOSE 4000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "reporting_assets.definitions"]
