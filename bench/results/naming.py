"""Names of runs and jobs: safe for file names, and the same whoever makes them.

``bench run`` and ``bench import`` both name jobs ``<dataset>__<features>__<model>__s<seed>``,
so that an imported run's job pairs with the baselines of the same dataset.
"""

from __future__ import annotations

import datetime as dt
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_part(name: str) -> str:
    """A name part for files: unsafe characters become ``-``."""
    return _UNSAFE.sub("-", name).strip("-") or "x"


def make_job_id(dataset: str, features: str, model: str, seed: int) -> str:
    """``<dataset>__<features>__<model>__s<seed>``."""
    return f"{safe_part(dataset)}__{safe_part(features)}__{safe_part(model)}__s{seed}"


def make_run_id(now: dt.datetime, name: str, digest: str) -> str:
    """``<UTC yyyymmddTHHMMSS>-<name>-<8 hex of digest>``.

    Runs of one config started in the same second share this id; ``RunDir.create`` then
    gives the second ``<id>-2``, the third ``<id>-3``, and so on (docs/results.md).
    """
    return f"{now:%Y%m%dT%H%M%S}-{name}-{digest[:8]}"
