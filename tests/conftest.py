import os
import sys
import tempfile
from pathlib import Path

from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

# Runs made by the tests are recorded in a throw-away history, never the user's own.
os.environ["DRSIM_HISTORY"] = str(Path(tempfile.mkdtemp(prefix="drsim-test-history-")) / "history.sqlite")

# Property-based tests draw their examples from a fixed seed, so a run (CI's included) is
# reproducible: the same examples every time. HYPOTHESIS_PROFILE=explore draws fresh ones.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
