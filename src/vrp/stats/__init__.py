"""Pure statistics for the HIPS VRP dashboard: no I/O (except the packaged standard population) and no Dash.

Each method is described, with its source and limits, in docs/METHODS.md.
"""

from .funnel import funnel_limits, funnel_position
from .hotspots import ConcentrationResult, benjamini_hochberg, concentration, gi_star
from .its import Effect, ITSResult, its
from .rates import (
    ChangeResult,
    DSRResult,
    change,
    compare,
    dsr,
    european_standard_population,
    poisson_count_limits,
    proportion_ci,
    rate_ci,
)
from .spc import assurance_icon, variation_icon, xmr
from .suppression import SuppressionResult, is_recoverable, suppress

__all__ = [
    "ChangeResult",
    "ConcentrationResult",
    "DSRResult",
    "Effect",
    "ITSResult",
    "SuppressionResult",
    "assurance_icon",
    "benjamini_hochberg",
    "change",
    "compare",
    "concentration",
    "dsr",
    "european_standard_population",
    "funnel_limits",
    "funnel_position",
    "gi_star",
    "is_recoverable",
    "its",
    "poisson_count_limits",
    "proportion_ci",
    "rate_ci",
    "suppress",
    "variation_icon",
    "xmr",
]
