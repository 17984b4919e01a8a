import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHONPATH", str(ROOT))

from hypothesis import settings  # noqa: E402

# Reproducible test runs: hypothesis draws the same examples every time (set HYPOTHESIS_PROFILE=explore
# to let it search with fresh randomness).
settings.register_profile("default-derandomized", derandomize=True, deadline=None)
settings.register_profile("explore", derandomize=False, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default-derandomized"))


import pytest  # noqa: E402


@pytest.fixture
def refused_without_allocating():
    """``check(experiment, params, *words)``: the experiment refuses the instance ``params`` as too big for the
    memory available (one-line UsageError naming the estimate, the memory available and ``words``, e.g. the
    parameters to reduce) within a second and without allocating more than a few MB."""
    import time
    import tracemalloc

    from ratecheck.verify.errors import UsageError
    from ratecheck.verify.experiments import get

    def check(experiment, params, *words):
        exp = get(experiment)
        tracemalloc.start()
        t0 = time.perf_counter()
        try:
            with pytest.raises(UsageError) as info:
                exp.params(params)
            elapsed, peak = time.perf_counter() - t0, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        msg = str(info.value)
        assert "\n" not in msg and msg.startswith(f"experiment {experiment!r}: this instance needs about "), msg
        assert "available; reduce " in msg, msg
        for w in words:
            assert w in msg, (w, msg)
        assert elapsed < 1.0 and peak < 5_000_000, (elapsed, peak)
        return msg

    return check
