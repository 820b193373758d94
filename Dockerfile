# jgz-gateway: one organisation's gateway (receiving API + delivery worker).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY jgz_gateway ./jgz_gateway
RUN pip install --no-cache-dir .
RUN useradd --system --create-home jgz
USER jgz
EXPOSE 8443
# Configure with JGZ_* environment variables or mount a config file (see README).
ENTRYPOINT ["jgz"]
CMD ["serve"]
