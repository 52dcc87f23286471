"""All configuration, read once from the environment (``VRP_*``). Nothing else reads ``os.environ``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
AUDIENCES = ("public", "partner")


def _default_reference_dir() -> Path:
    # The reference data sits beside the repository (../shared/data), never inside it.
    return (REPO_ROOT / ".." / "shared" / "data").resolve()


@dataclass(frozen=True)
class Settings:
    reference_dir: Path = field(default_factory=_default_reference_dir)
    build_dir: Path = REPO_ROOT / "build"
    config_dir: Path = REPO_ROOT / "config"
    # The partial plotly.js bundle `make` builds from plotlyjs/ (served in place of Dash's full one when present).
    plotlyjs_dir: Path = REPO_ROOT / "build" / "plotlyjs"
    warehouse_url: str = ""
    audience: str = "public"
    cache_type: str = "FileSystemCache"
    cache_url: str = ""
    cache_timeout: int = 3600
    # Deployment-wide minimum for public small-number suppression; measures may set a higher one.
    public_min_count: int = 0
    # The year the partnership measures progress against (Outcomes Based Performance Framework), April to March.
    baseline_fy: str = "2022-23"

    def __post_init__(self) -> None:
        if self.audience not in AUDIENCES:
            raise ValueError(f"VRP_AUDIENCE must be one of {', '.join(AUDIENCES)}, not {self.audience!r}")

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
    if env.get("VRP_BASELINE_FY"):
        kw["baseline_fy"] = env["VRP_BASELINE_FY"]
    if env.get("VRP_PUBLIC_MIN_COUNT"):
        kw["public_min_count"] = int(env["VRP_PUBLIC_MIN_COUNT"])
    return Settings(**kw)
