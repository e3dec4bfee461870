"""drsim: replay disaster-recovery drills against a model of an estate.

The public API::

    import drsim
    topo = drsim.load_topology()                 # the bundled reference EHR estate
    result = drsim.run_drill("region-loss", topo, seed=1)
    result.passed, result.to_frame()
"""

from .analysis.compare import ComparisonResult, compare
from .api import prepare, run_drill
from .errors import InputError
from .model.loader import load_drill, load_topology
from .report.timeline import Tabletop, render_timeline, tabletop
from .results import DrillResult
from .sweep.run import SweepResult, sweep

__all__ = [
    "ComparisonResult",
    "DrillResult",
    "InputError",
    "SweepResult",
    "Tabletop",
    "compare",
    "load_drill",
    "load_topology",
    "prepare",
    "render_timeline",
    "run_drill",
    "sweep",
    "tabletop",
]

try:
    from importlib.metadata import version as _v

    __version__ = _v("drsim")
except Exception:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
