"""What several test modules share: builders for test files in the partner contracts, independent references
read straight from the cube, the filter state a page callback receives, posting a callback as the browser does,
waiting on the browser, the command line, and starting gunicorn. Test modules import these from here, never
from one another."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES
from vrp.cli import main
from vrp.settings import REPO_ROOT

SOUTHAMPTON = (-1.4044, 50.9097)  # E01035444, Southampton
PORTSMOUTH = (-1.0913, 50.7989)  # E01017034, Portsmouth
NEWPORT_IOW = (-1.2939, 50.6998)  # E01017326, Isle of Wight
AT_SEA = (-1.3, 50.55)  # the Channel, south of the Isle of Wight
LONDON = (-0.1276, 51.5072)

POLICE_HEADER = [
    "crime_reference",
    "recorded_date",
    "occurred_datetime",
    "ho_offence_code",
    "knife_flag",
    "victim_age",
    "domestic_flag",
    "longitude",
    "latitude",
]


def write_csv(
    path: Path,
    header: list[str],
    rows: list[list],
    *,
    newline: str = "\n",
    bom: bool = False,
    delimiter: str = ",",
) -> Path:
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator=newline, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def police_row(
    ref: str,
    date: str = "2024-03-15",
    code: str = "8N",
    knife: str = "Y",
    age="19",
    domestic: str = "N",
    where=SOUTHAMPTON,
    occurred: str = "2024-03-15T23:10",
) -> list:
    return [ref, date, occurred, code, knife, age, domestic, where[0], where[1]]


def attacker_bounds(table, hidden, targets) -> list[tuple[float, float]]:
    """What a user can derive about each target cell of a stats.disclosure.LinearTable from its published cells
    alone (counts >= 0, the links and the part-of-whole structure), by scipy's own linear programming."""
    import numpy as np
    from scipy.optimize import linprog

    published = table.publishable & ~hidden
    a_eq = table.cells[np.flatnonzero(published)].toarray()
    b_eq = table.values[published]
    if table.links is not None:
        a_eq = np.vstack([a_eq, table.links.toarray()])
        b_eq = np.concatenate([b_eq, np.zeros(table.links.shape[0])])
    a_ub = b_ub = None
    if table.subsets is not None and len(table.subsets):
        a_ub = np.zeros((len(table.subsets), table.cells.shape[1]))
        a_ub[np.arange(len(table.subsets)), table.subsets[:, 0]] = 1
        a_ub[np.arange(len(table.subsets)), table.subsets[:, 1]] = -1
        b_ub = np.zeros(len(table.subsets))
    out = []
    for cell in targets:
        c = table.cells[cell].toarray().ravel()
        lo = linprog(c, A_eq=a_eq, b_eq=b_eq, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        assert lo.status == 0
        out.append((lo.fun, np.inf if hi.status == 3 else -hi.fun))
    return out


def cube_lsoa_year(wh, measure_id: str, fy_start: str, district: str | None = None):
    """An independent reference for the public Hotspots page: the published LSOA cells of one financial year
    (all ages), read straight from pub_cube by SQL, indexed by LSOA code: count (NaN where hidden), suppressed."""
    import pandas as pd

    where = f" AND a.district_code = '{district}'" if district else ""
    frame = wh.read(
        "SELECT c.area_code, c.count, c.suppressed FROM pub_cube c JOIN dim_area a ON a.lsoa21_code = c.area_code "
        f"WHERE c.measure_id = '{measure_id}' AND c.area_level = 'lsoa' AND c.age = 'all' AND c.period_type = 'fy' "
        f"AND c.period_start = DATE '{fy_start}'{where}"
    ).set_index("area_code")
    frame["suppressed"] = frame["suppressed"].astype(bool)
    frame["count"] = pd.to_numeric(frame["count"]).astype(float).mask(frame["suppressed"])
    return frame


def cube_area_year(wh, measure_id: str, area: str, fy_start: str) -> int | None:
    """The published count of HIPS or a district for one financial year (all ages), from pub_cube by SQL; None
    where hidden."""
    level = "hips" if area == "HIPS" else "district"
    row = wh.read(
        f"SELECT count, suppressed FROM pub_cube WHERE measure_id = '{measure_id}' AND area_level = '{level}' "
        f"AND area_code = '{area}' AND age = 'all' AND period_type = 'fy' AND period_start = DATE '{fy_start}'"
    )
    return None if bool(row["suppressed"].iloc[0]) else int(row["count"].iloc[0])


def cube_cells(wh, measure_id: str, area: str, period_type: str, age: str = "all"):
    """An independent reference for the public pages: the published cells of HIPS or one district of one kind of
    period, read straight from pub_cube by SQL, in date order: start, end (dates), count (NaN where hidden),
    suppressed."""
    import pandas as pd

    level = "hips" if area == "HIPS" else "district"
    frame = wh.read(
        "SELECT period_start AS start, period_end AS end, count, suppressed FROM pub_cube "
        f"WHERE measure_id = '{measure_id}' AND area_level = '{level}' AND area_code = '{area}' AND age = '{age}' "
        f"AND period_type = '{period_type}' ORDER BY period_start"
    )
    frame["start"] = pd.to_datetime(frame["start"]).dt.date
    frame["end"] = pd.to_datetime(frame["end"]).dt.date
    frame["suppressed"] = frame["suppressed"].astype(bool)
    frame["count"] = pd.to_numeric(frame["count"]).astype(float).mask(frame["suppressed"])
    return frame.reset_index(drop=True)


def to_grid(where: tuple[float, float]) -> tuple[int, int]:
    """A WGS84 point as whole-metre British National Grid easting and northing, as a police system exports it."""
    from pyproj import Transformer

    easting, northing = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(*where)
    return round(easting), round(northing)


def write_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """An .xlsx workbook, sheets in the order given. Cells: text, numbers, booleans, dates and date-times (stored
    as Excel dates, shown dd/mm/yyyy [hh:mm]), and ("=FORMULA", saved value) pairs, saved as Excel saves them."""
    from datetime import date, datetime

    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    moment = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, tuple):
                    sheet.write_formula(r, c, value[0], None, value[1])
                elif isinstance(value, datetime):
                    sheet.write_datetime(r, c, value, moment)
                elif isinstance(value, date):
                    sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), day)
                elif value is None:
                    continue
                else:
                    sheet.write(r, c, value)
    book.close()
    return path


# ---- page callbacks ------------------------------------------------------------------------------------------------

SOTON = "E06000045"  # Southampton, the district most page tests choose


def filter_state(districts=(SOTON,), start="2025-10", end="2026-09", measure="serious_violence", age="all") -> dict:
    """The shell's filter state as a page's callbacks receive it (each page's tests fix their own defaults)."""
    return {"districts": list(districts), "start": start, "end": end, "measure": measure, "age": age}


def drawn(card: dict) -> tuple[list[str], str, int]:
    """What a drawn chart card shows, as values to compare: its figure's trace types in order, its table's
    component type, and the number of words in its summary."""
    figure = card["figure"]
    traces = figure.data if hasattr(figure, "data") else figure.get("data", [])
    types = [t.type if hasattr(t, "type") else t["type"] for t in traces]
    return types, type(card["table"]).__name__, len(str(card["summary"]).split())


def post_callback(client, output: str, inputs: list, state: list | None = None):
    """Call the callback whose outputs include ``output`` the way the browser does: POST /_dash-update-component."""
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if output in str(d.get("output")))
    body = {
        "output": dep["output"],
        "outputs": [
            {"id": o.split(".")[0], "property": o.split(".")[1]} for o in dep["output"].strip(".").split("...")
        ],
        "inputs": inputs,
        "state": state or [],
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
    }
    return client.post("/_dash-update-component", json=body)


# Tables the public release must never need (tests/test_public_release.py drops them from a copy).
UNPUBLISHED_TABLES = (
    "fact_police_records",
    "fact_admissions",
    "fact_homicides",
    "fact_police_uk",
    "fact_ons_knife",
    "mart_counts",
    "pub_cube_audit",
    "quarantine",
    "load_audit",
)


# ---- the browser ---------------------------------------------------------------------------------------------------


def wait_for(fn, timeout=20, interval=0.2):
    end = time.time() + timeout
    while time.time() < end:
        value = fn()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {fn}")


def tick(duo, label_text):
    """Tick a district with the keyboard: focus its checkbox, press space."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    label = next(
        x for x in duo.driver.find_elements(By.CSS_SELECTOR, "#filter-district label") if x.text.strip() == label_text
    )
    box = duo.driver.find_element(By.ID, label.get_attribute("for"))
    duo.driver.execute_script("arguments[0].focus()", box)
    box.send_keys(Keys.SPACE)


def screen(duo, width: int, height: int) -> None:
    duo.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 768},
    )


def open_page(duo, path: str) -> None:
    duo.driver.get(duo.server_url + path)
    drawn = "const c = document.getElementById('page-content'); return c ? c.innerText.length : 0"
    wait_for(lambda: duo.driver.execute_script(drawn))


def built_bundle(settings) -> dict:
    """The manifest make writes beside the bundle; fails in CI (and skips elsewhere) when the bundle is missing."""
    manifest = settings.plotlyjs_dir / "plotly-vrp.json"
    if not manifest.exists():
        message = f"{manifest} is missing: run `make build/plotlyjs/plotly-vrp.json`"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return json.loads(manifest.read_text(encoding="utf-8"))


# ---- the command line and gunicorn ---------------------------------------------------------------------------------


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """``vrp ARGS`` in-process: its exit code, standard output and standard error."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(settings, log_path, **extra):
    """gunicorn with the repository's gunicorn.conf.py serving vrp.wsgi:server on a free port, once /healthz
    answers. Returns (process, port)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VRP_") and k != "GUNICORN_CMD_ARGS"}
    env.update(
        VRP_WAREHOUSE_URL=settings.warehouse,
        VRP_BUILD_DIR=str(settings.build_dir),
        VRP_REFERENCE_DIR=str(settings.reference_dir),
        VRP_CACHE_TYPE="NullCache",
        **extra,
    )
    log = log_path.open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--no-control-socket", "--bind", f"127.0.0.1:{port}", "vrp.wsgi:server"],
        cwd=REPO_ROOT,  # gunicorn reads ./gunicorn.conf.py, the production settings under test
        env=env,
        stdout=log,
        stderr=log,
    )
    log.close()
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("gunicorn did not start:\n" + log_path.read_text()[-3000:])
            time.sleep(0.3)
    time.sleep(2)  # let the second worker finish its warm-up too
    return server, port


def stop_server(server) -> None:
    server.terminate()
    server.wait(timeout=30)
