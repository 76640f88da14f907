# A fixed Python release on a fixed Debian release, so two builds start from the same system.
# To pin the exact image as well, add its digest: FROM python:3.11.14-slim-bookworm@sha256:...
# (`docker buildx imagetools inspect python:3.11.14-slim-bookworm` prints it).
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MESSAGES_DIR=/app/messages \
    LOCALES_DIR=/app/locales

WORKDIR /app
# Exactly the versions in the lock, each checked against its hash; then the app on top.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir --no-deps .
COPY messages ./messages
COPY locales ./locales
# Compiling refuses an incomplete catalog, so a broken translation fails the build, not a patient.
RUN smsbot catalog compile

RUN useradd --system --uid 10001 smsbot
USER smsbot
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["smsbot", "serve", "--host", "0.0.0.0", "--port", "8000"]
