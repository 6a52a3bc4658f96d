"""Where a run's numbers came from: the git state and the versions that can change a number.

Recorded in every manifest (``bench run`` and ``bench import`` alike), so that a reader can
tell whether two runs are comparable.
"""

from __future__ import annotations

import platform
import subprocess
from typing import Any

from bench.core.version import __version__

VERSIONED = {"numpy": "numpy", "scipy": "scipy", "sklearn": "scikit-learn", "pandas": "pandas",
             "pyarrow": "pyarrow", "datasets": "datasets"}


def git_state() -> dict[str, Any]:
    """Commit and dirty flag of the working tree the run starts from (null outside git)."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def versions() -> dict[str, str | None]:
    """Python, platform and the versions of the packages that can change a number."""
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {"python": platform.python_version(), "platform": platform.platform(),
                                  "newsbench": __version__}
    for key, dist in VERSIONED.items():
        try:
            out[key] = version(dist)
        except PackageNotFoundError:
            out[key] = None
    return out
