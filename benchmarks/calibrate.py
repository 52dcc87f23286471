"""A fixed CPU yardstick printed with every benchmark, so figures from different machines (or one machine on a busy
day) can be compared: the same pure-Python loop and the same small pandas job, best of five."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd


def _best(job, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def cpu_yardstick() -> str:
    def loop():
        total = 0
        for i in range(2_000_000):
            total += i

    frame = pd.DataFrame({"k": np.arange(200_000) % 97, "v": np.arange(200_000, dtype=float)})

    def group():
        frame.groupby("k")["v"].sum()

    return f"yardstick: 2M-step Python loop {_best(loop):.0f} ms, 200k-row pandas groupby {_best(group):.1f} ms"


if __name__ == "__main__":
    print(cpu_yardstick())
