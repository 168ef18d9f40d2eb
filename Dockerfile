# The worker image used by docker-compose.yml (production shape).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY concord ./concord
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/concord concord \
    && mkdir -p /var/lib/concord && chown concord /var/lib/concord
USER concord
EXPOSE 6066
CMD ["concord", "worker"]
