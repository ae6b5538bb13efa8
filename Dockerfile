# syntax=docker/dockerfile:1
# docflow: one image for the worker, the watcher and the review web app.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY core ./core
COPY storage ./storage
COPY extractors ./extractors
COPY validators ./validators
COPY exceptions_queue ./exceptions_queue
COPY billing ./billing
COPY pipeline ./pipeline
COPY flows ./flows
COPY cli ./cli
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install -c constraints.txt .

FROM python:3.11-slim-bookworm AS runtime
# Tesseract with English data and the European languages pages are read again in
# (DOCFLOW_OCR_AUTO_LANGS); tini reaps tesseract child processes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu \
    tesseract-ocr-fra tesseract-ocr-nld tesseract-ocr-spa tesseract-ocr-ita tini curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 docflow
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=docflow:docflow config ./config
COPY --chown=docflow:docflow prefect.yaml ./
COPY --chown=docflow:docflow samples ./samples
ENV PATH=/opt/venv/bin:$PATH \
    DOCFLOW_HOME=/data \
    DOCFLOW_CONFIG_DIR=/app/config \
    OMP_THREAD_LIMIT=1 \
    PYTHONUNBUFFERED=1
RUN mkdir -p /data && chown docflow:docflow /data
USER 10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["curl", "-fsS", "http://127.0.0.1:8000/healthz"]
ENTRYPOINT ["tini", "--", "docflow"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
