"""One module per source: its CSV contract (columns) and how a row is checked and shaped for its fact table.

The contracts are written out for suppliers in docs/DATA_CONTRACTS.md.
"""

from vrp.pipeline.sources import admissions, homicides, ons_knife, police_records, police_uk

SPECS = {
    "police_uk": police_uk.SPEC,
    "police_records": police_records.SPEC,
    "admissions": admissions.SPEC,
    "homicides": homicides.SPEC,
    "ons_knife": ons_knife.SPEC,
}
