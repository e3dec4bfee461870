"""drsim: replay disaster-recovery drills against a model of an estate.

The public API::

    import drsim
    topo = drsim.load_topology()                 # the bundled reference EHR estate
    result = drsim.run_drill("region-loss", topo, seed=1)
    result.passed, result.to_frame()

Everything a notebook or a script needs is a name here (``drsim.__all__``):
loading estates and drills, replaying one drill, sweeping many replicates,
comparing estates, what moves a metric and what to fix first, tabletop packs
and the charts. The subpackages are the implementation behind these names.
"""

from .analysis.advise import AdviceResult, advise
from .analysis.compare import ComparisonResult, compare
from .analysis.sensitivity import GridResult, SensitivityResult, one_at_a_time, sobol
from .analysis.sensitivity import grid as sensitivity_grid
from .api import prepare, run_drill
from .errors import InputError
from .model.loader import bundled_dir, bundled_names, load_drill, load_topology
from .model.units import format_duration, parse_duration
from .report.plots import gantt, grid_heatmap
from .report.tabletop import Tabletop, tabletop
from .report.timeline import render_timeline
from .results import DrillResult
from .sweep import SweepResult, sweep
from .version import __version__

__all__ = [
    "AdviceResult",
    "ComparisonResult",
    "DrillResult",
    "GridResult",
    "InputError",
    "SensitivityResult",
    "SweepResult",
    "Tabletop",
    "__version__",
    "advise",
    "bundled_dir",
    "bundled_names",
    "compare",
    "format_duration",
    "gantt",
    "grid_heatmap",
    "load_drill",
    "load_topology",
    "one_at_a_time",
    "parse_duration",
    "prepare",
    "render_timeline",
    "run_drill",
    "sensitivity_grid",
    "sobol",
    "sweep",
    "tabletop",
]
