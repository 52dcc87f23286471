# syntax=docker/dockerfile:1
# The dashboard's image: gunicorn serving the installed package (vrp.wsgi:server) with gunicorn.conf.py, as a
# non-root user. Three stages: npm builds the partial plotly.js bundle (as `make` does), Python builds wheels of
# the project (carrying that bundle, config/ and assets/ as package data) and of its dependencies, and a slim
# runtime installs them offline. Reference data and the warehouse are not in the image: see compose.yaml.

# ---- 1. the plotly.js bundle (plotlyjs/, as in the Makefile) -------------------------------------------------
FROM node:20.19-bookworm-slim AS plotlyjs
WORKDIR /build
COPY plotlyjs/package.json plotlyjs/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY plotlyjs/build.js plotlyjs/traces.js ./
RUN node build.js .

# ---- 2. wheels: the project and every dependency ------------------------------------------------------------
FROM python:3.11.13-slim-bookworm AS wheels
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY config ./config
COPY assets ./assets
COPY src ./src
COPY --from=plotlyjs /build/plotly-vrp.json /build/plotly-vrp.min.js /build/plotly-vrp.min.js.gz ./build/plotlyjs/
RUN pip wheel --wheel-dir /wheels .

# ---- 3. runtime ---------------------------------------------------------------------------------------------
FROM python:3.11.13-slim-bookworm
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    VRP_BUILD_DIR=/var/lib/vrp VRP_REFERENCE_DIR=/srv/reference
RUN groupadd --system --gid 10001 vrp \
    && useradd --system --uid 10001 --gid vrp --home-dir /app --shell /usr/sbin/nologin vrp \
    && mkdir -p /var/lib/vrp /srv/reference \
    && chown vrp:vrp /var/lib/vrp
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels /wheels/vrp_dashboard-*.whl
WORKDIR /app
COPY gunicorn.conf.py ./
USER 10001:10001
EXPOSE 8050
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8050/healthz', timeout=4)"]
CMD ["gunicorn", "--config", "gunicorn.conf.py", "--no-control-socket", "--bind", "0.0.0.0:8050", "vrp.wsgi:server"]
