"""``vrp briefing``: a briefing pack for a district or HIPS, written to a file."""

from __future__ import annotations

from pathlib import Path

import click

from vrp.cli_common import settings_for, warehouse_option
from vrp.data_access.published import NotPublished


@click.command()
@warehouse_option
@click.option("--district", default="HIPS", show_default=True, metavar="CODE|HIPS", help="The district, or HIPS.")
@click.option("--from", "start", metavar="YYYY-MM", default=None, help="First month (public: a published period).")
@click.option("--to", "end", metavar="YYYY-MM", default=None, help="Last month (default: the latest).")
@click.option("--format", "fmt", type=click.Choice(["pptx", "pdf"]), default="pptx", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True, help="The file to write.")
def briefing(warehouse_url, district, start, end, fmt, out):
    """A briefing pack (PowerPoint or PDF) for a district or HIPS, in the settings' audience (VRP_AUDIENCE)."""
    from vrp.briefing.make import write
    from vrp.briefing.pdf_pack import PrintFailed
    from vrp.figures.export import ImagesUnavailable

    try:
        pack = write(settings_for(warehouse_url), district, start, end, fmt, Path(out))
    except (PrintFailed, NotPublished) as exc:
        raise click.ClickException(str(exc)) from None
    except ImagesUnavailable as exc:
        raise click.ClickException(f"the charts cannot be drawn here (is chromium installed?): {exc}") from None
    except OSError as exc:
        raise click.ClickException(f"{out}: {exc.strerror or exc}") from None
    click.echo(f"{out}: {len(pack.slides) + 1} slides, {pack.place}, {pack.period} ({pack.audience} audience)")
