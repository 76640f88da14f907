FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MESSAGES_DIR=/app/messages \
    LOCALES_DIR=/app/locales

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir .
COPY messages ./messages
COPY locales ./locales
# Compiling refuses an incomplete catalog, so a broken translation fails the build, not a patient.
RUN smsbot catalog compile

RUN useradd --system --uid 10001 smsbot
USER smsbot
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["smsbot", "serve", "--host", "0.0.0.0", "--port", "8000"]
