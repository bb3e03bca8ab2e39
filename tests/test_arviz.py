"""`efftheory.sampling._arviz`: ArviZ imported without its daily notice about 1.0."""

import os
import subprocess
import sys


def test_first_import_of_the_day_raises_no_warning(tmp_path):
    """ArviZ 0.22-0.23 warn on the first import of each day (a date stamp in the user cache);
    with an empty cache and warnings as errors, `import efftheory` must still succeed."""
    cache = tmp_path / "cache"
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    completed = subprocess.run([sys.executable, "-W", "error", "-c", "import efftheory"],
                               env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    if sys.platform.startswith("linux"):  # the cache folder follows XDG_CACHE_HOME here only
        assert (cache / "arviz" / "daily_warning").is_file()  # the notice was issued
