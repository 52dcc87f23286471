"""Caching for the read side: keys are the function, its normalised arguments and the warehouse's data version,
so one load invalidates everything at once. A failing cache backend never fails a page: it is logged and the
query runs uncached.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

import vrp

log = logging.getLogger(__name__)
_MISS = object()


class CacheBackend(Protocol):
    def get(self, key: str) -> Any: ...
    def set(self, key: str, value: Any, timeout: int | None = None) -> Any: ...


def normalise(value: Any) -> Any:
    """Equal questions give equal keys: sets sorted, dates as ISO text (callers sort lists that are sets)."""
    if isinstance(value, (set, frozenset)):
        return sorted((normalise(v) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in sorted(value.items())}
    return value


@functools.cache
def code_version() -> str:
    """The package version plus a digest of its source: a cached result or view built by other code (an upgrade,
    or an edit while developing against a persistent FileSystemCache) is never served."""
    digest = hashlib.sha256()
    for path in sorted(Path(vrp.__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return f"{vrp.__version__}+{digest.hexdigest()[:10]}"


def cache_key(name: str, version: str, kwargs: dict) -> str:
    body = json.dumps({"f": name, "v": version, "a": normalise(kwargs)}, sort_keys=True, default=str)
    return "vrp:" + hashlib.sha256(body.encode()).hexdigest()


class QueryCache:
    WARN_EVERY = 60.0  # seconds: a cache outage is logged once a minute, not once a request

    def __init__(self, backend: CacheBackend | None, timeout: int = 3600):
        self.backend = backend
        self.timeout = timeout
        self._warned_at: float | None = None
        self._suppressed = 0

    def fetch(self, name: str, version: str, kwargs: dict, compute: Callable[[], Any]) -> Any:
        if self.backend is None:
            return compute()
        key = cache_key(name, version, kwargs)
        try:
            hit = self.backend.get(key)
        except Exception as exc:  # backend down: serve uncached
            self._warn(exc)
            return compute()
        if hit is not None and hit is not _MISS:
            return hit
        value = compute()
        try:
            self.backend.set(key, value, timeout=self.timeout)
        except Exception as exc:
            self._warn(exc)
        return value

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if self._warned_at is not None and now - self._warned_at < self.WARN_EVERY:
            self._suppressed += 1
            return
        more = f" ({self._suppressed} more since the last warning)" if self._suppressed else ""
        self._warned_at, self._suppressed = now, 0
        log.warning(
            "cache backend unavailable, serving uncached: %s%s", str(exc).splitlines()[0] if str(exc) else exc, more
        )
