"""Whole-page screenshots of a running dashboard at the three screen sizes the pages are checked at.

    python tools/screenshots.py --base http://127.0.0.1:8050 --out build/shots / /knife-crime

Each page is drawn at its size from the start (Chrome's device metrics, as a phone draws it; `chromium
--screenshot --window-size=390,...` lays charts out at the window's minimum width of 500 px and then crops them,
which looks like charts wider than their cards when they are not), then captured whole, below the fold too.
"""

from __future__ import annotations

import argparse
import base64
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.support.ui import WebDriverWait

SIZES = [(1366, 900), (1920, 1080), (390, 844)]
DRAWN = """
const c = document.getElementById('page-content');
const busy = document.querySelector('[data-dash-is-loading="true"]');
return c && c.innerText.length > 0 && !busy;
"""


def capture(driver, url: str, width: int, height: int, out: Path, settle: float) -> Path:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 768},
    )
    driver.get(url)
    WebDriverWait(driver, 60).until(lambda d: d.execute_script(DRAWN))
    time.sleep(settle)  # charts draw after their callbacks answer
    full = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": full["height"], "scale": 1},
        },
    )
    out.write_bytes(base64.b64decode(shot["data"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=["/"])
    parser.add_argument("--base", default="http://127.0.0.1:8050")
    parser.add_argument("--out", type=Path, default=Path("build/shots"))
    parser.add_argument("--settle", type=float, default=4.0, help="seconds to let charts draw")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options)
    try:
        for path in args.paths:
            name = path.strip("/").replace("/", "-").split("?")[0] or "overview"
            for width, height in SIZES:
                out = args.out / f"{name}-{width}x{height}.png"
                print(capture(driver, args.base + path, width, height, out, args.settle))
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
