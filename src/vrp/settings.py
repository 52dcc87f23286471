"""All configuration, read once from the environment (``VRP_*``). Nothing else reads ``os.environ``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parents[1]
# A source checkout (`make run`, the editable install) reads assets/, config/ and build/ in the repository. An
# installed wheel (`pip install .`, the container) has no repository: it reads its assets, config and plotly.js
# bundle from package data (vrp/_data, links to those folders in the checkout, copied into the wheel), and its
# working folders from the settings below (VRP_BUILD_DIR, VRP_REFERENCE_DIR), else from the working directory.
IN_CHECKOUT = (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "src" / "vrp").is_dir()
PACKAGE_DATA = PACKAGE_DIR / "_data"
AUDIENCES = ("public", "partner")


def _default_reference_dir() -> Path:
    # The reference data sits beside the repository (../shared/data), never inside it.
    if IN_CHECKOUT:
        return (REPO_ROOT / ".." / "shared" / "data").resolve()
    return Path.cwd() / "reference"


def _default_build_dir() -> Path:
    return REPO_ROOT / "build" if IN_CHECKOUT else Path.cwd() / "build"


def _bundled(name: str, checkout: str | None = None) -> Path:
    """A folder shipped with the code: in the repository for a checkout, package data for a wheel."""
    return REPO_ROOT / (checkout or name) if IN_CHECKOUT else PACKAGE_DATA / name


def _switch(value: str) -> bool:
    return value.strip().lower() not in ("0", "off", "false", "no", "")


@dataclass(frozen=True)
class Settings:
    reference_dir: Path = field(default_factory=_default_reference_dir)
    build_dir: Path = field(default_factory=_default_build_dir)
    config_dir: Path = field(default_factory=lambda: _bundled("config"))
    assets_dir: Path = field(default_factory=lambda: _bundled("assets"))
    # The partial plotly.js bundle `make` builds from plotlyjs/ (served in place of Dash's full one when present).
    plotlyjs_dir: Path = field(default_factory=lambda: _bundled("plotlyjs", "build/plotlyjs"))
    warehouse_url: str = ""
    audience: str = "public"
    cache_type: str = "FileSystemCache"
    cache_url: str = ""
    cache_timeout: int = 3600
    # Entries FileSystemCache and SimpleCache keep before pruning (Flask-Caching's own default, 500, is a few
    # dozen filter choices of views and queries on a busy server).
    cache_threshold: int = 10_000
    # Deployment-wide minimum for public small-number suppression; measures may set a higher one.
    public_min_count: int = 0
    # The year the partnership measures progress against (Outcomes Based Performance Framework), April to March.
    baseline_fy: str = "2022-23"
    # HTTP (vrp/hardening.py, vrp/ratelimits.py). The largest request body accepted (413 beyond): a callback
    # request is a few KB; 1 MB leaves room and stops a 300 MB body before it is read.
    max_content_length: int = 1024 * 1024
    # How many proxies in front (nginx: 1) whose X-Forwarded-For/-Proto/-Host are trusted; 0 trusts none.
    proxy_fix: int = 0
    # Per-client rate limits (flask-limiter syntax), kept in Redis when cache_url is set, else in each process.
    rate_limits: bool = True
    rate_limit_pages: str = "300 per minute"
    rate_limit_callbacks: str = "1200 per minute"
    rate_limit_api: str = "60 per minute"
    # Loading files (vrp ingest): rows read and checked at a time (memory follows this, not the file), and the share
    # of a file's rows that may be rejected before the whole file is refused.
    load_chunk_rows: int = 20_000
    max_rejected_share: float = 0.5
    # Partner sign-in with OpenID Connect (vrp/auth.py): the provider's issuer (its discovery document lives at
    # ISSUER/.well-known/openid-configuration), this app's client id and secret, and the claim and value that
    # grant the partner role. Signing in is offered when the issuer is set.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = field(default="", repr=False)
    oidc_role_claim: str = "roles"
    oidc_partner_value: str = "vrp-partner"
    oidc_scope: str = "openid profile email"
    # Signs the session cookie; every worker and server must share it (required with sign-in).
    secret_key: str = field(default="", repr=False)
    session_lifetime: int = 8 * 3600  # seconds from sign-in; an older session is public again
    # Partner data with no sign-in, on purpose (a closed network): every visitor is a partner, every page says so.
    insecure_no_auth: bool = False

    @property
    def sign_in(self) -> bool:
        return bool(self.oidc_issuer)

    def __post_init__(self) -> None:
        if self.audience not in AUDIENCES:
            raise ValueError(f"VRP_AUDIENCE must be one of {', '.join(AUDIENCES)}, not {self.audience!r}")
        if self.cache_threshold <= 0:
            raise ValueError("VRP_CACHE_THRESHOLD must be a positive number of entries")
        if self.load_chunk_rows <= 0:
            raise ValueError("VRP_LOAD_CHUNK_ROWS must be a positive number of rows")
        if not 0 <= self.max_rejected_share <= 1:
            raise ValueError("VRP_MAX_REJECTED_SHARE must be a share from 0 to 1 (or 0% to 100%)")
        if self.max_content_length <= 0:
            raise ValueError("VRP_MAX_CONTENT_LENGTH must be a positive number of bytes")
        if self.session_lifetime <= 0:
            raise ValueError("VRP_SESSION_LIFETIME must be a positive number of seconds")
        from limits import parse_many

        for part in ("pages", "callbacks", "api"):
            value = getattr(self, f"rate_limit_{part}")
            try:
                parse_many(value)
            except ValueError:
                raise ValueError(
                    f"VRP_RATE_LIMIT_{part.upper()} is not a rate limit ({value!r}): write e.g. '60 per minute'"
                ) from None

    @property
    def demo_warehouse_path(self) -> Path:
        return self.build_dir / "warehouse.duckdb"

    @property
    def warehouse(self) -> str:
        """The warehouse URL: explicit setting, else the embedded demo DuckDB file."""
        return self.warehouse_url or f"duckdb:///{self.demo_warehouse_path}"

    @property
    def measures_file(self) -> Path:
        return self.config_dir / "measures.toml"

    @property
    def sources_file(self) -> Path:
        """Each source's publisher, licence and refresh cycle (the Data page's source registry)."""
        return self.config_dir / "sources.toml"

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)


def from_env(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    kw: dict = {}
    if env.get("VRP_REFERENCE_DIR"):
        kw["reference_dir"] = Path(env["VRP_REFERENCE_DIR"]).resolve()
    if env.get("VRP_BUILD_DIR"):
        kw["build_dir"] = Path(env["VRP_BUILD_DIR"]).resolve()
    if env.get("VRP_CONFIG_DIR"):
        kw["config_dir"] = Path(env["VRP_CONFIG_DIR"]).resolve()
    if env.get("VRP_ASSETS_DIR"):
        kw["assets_dir"] = Path(env["VRP_ASSETS_DIR"]).resolve()
    if env.get("VRP_PLOTLYJS_DIR"):
        kw["plotlyjs_dir"] = Path(env["VRP_PLOTLYJS_DIR"]).resolve()
    if env.get("VRP_WAREHOUSE_URL"):
        kw["warehouse_url"] = env["VRP_WAREHOUSE_URL"]
    if env.get("VRP_AUDIENCE"):
        kw["audience"] = env["VRP_AUDIENCE"].strip().lower()
    if env.get("VRP_CACHE_TYPE"):
        kw["cache_type"] = env["VRP_CACHE_TYPE"]
    if env.get("VRP_CACHE_URL"):
        kw["cache_url"] = env["VRP_CACHE_URL"]
        kw.setdefault("cache_type", "RedisCache")
    if env.get("VRP_CACHE_TIMEOUT"):
        kw["cache_timeout"] = int(env["VRP_CACHE_TIMEOUT"])
    if env.get("VRP_CACHE_THRESHOLD"):
        kw["cache_threshold"] = int(env["VRP_CACHE_THRESHOLD"])
    if env.get("VRP_BASELINE_FY"):
        kw["baseline_fy"] = env["VRP_BASELINE_FY"]
    if env.get("VRP_PUBLIC_MIN_COUNT"):
        kw["public_min_count"] = int(env["VRP_PUBLIC_MIN_COUNT"])
    if env.get("VRP_MAX_CONTENT_LENGTH"):
        kw["max_content_length"] = int(env["VRP_MAX_CONTENT_LENGTH"])
    if env.get("VRP_PROXY_FIX"):
        kw["proxy_fix"] = int(env["VRP_PROXY_FIX"])
    if "VRP_RATE_LIMITS" in env:
        kw["rate_limits"] = _switch(env["VRP_RATE_LIMITS"])
    for part in ("pages", "callbacks", "api"):
        if env.get(f"VRP_RATE_LIMIT_{part.upper()}"):
            kw[f"rate_limit_{part}"] = env[f"VRP_RATE_LIMIT_{part.upper()}"]
    for name in ("issuer", "client_id", "client_secret", "role_claim", "partner_value", "scope"):
        if env.get(f"VRP_OIDC_{name.upper()}"):
            kw[f"oidc_{name}"] = env[f"VRP_OIDC_{name.upper()}"].strip()
    if env.get("VRP_SECRET_KEY"):
        kw["secret_key"] = env["VRP_SECRET_KEY"]
    if env.get("VRP_SESSION_LIFETIME"):
        kw["session_lifetime"] = int(env["VRP_SESSION_LIFETIME"])
    if "VRP_INSECURE_NO_AUTH" in env:
        kw["insecure_no_auth"] = _switch(env["VRP_INSECURE_NO_AUTH"])
    if env.get("VRP_LOAD_CHUNK_ROWS"):
        kw["load_chunk_rows"] = int(env["VRP_LOAD_CHUNK_ROWS"])
    if env.get("VRP_MAX_REJECTED_SHARE"):
        kw["max_rejected_share"] = float(env["VRP_MAX_REJECTED_SHARE"].strip().rstrip("%")) / (
            100 if env["VRP_MAX_REJECTED_SHARE"].strip().endswith("%") else 1
        )
    return Settings(**kw)
