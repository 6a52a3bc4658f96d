"""The parameters that tuning chose, as one readable line per tuned system of a run.

A job with a model ``tune`` records, per unit (the test split, or each outer CV fold), the
parameters its inner cross-validation chose and every candidate's inner score
(``jobs/<job_id>.json``: ``params`` and ``tuning``, docs/results.md). Tables show the numbers
of the refitted models, so ``bench show``, ``bench compare`` and ``bench report`` print these
lines under them: a tuned number is read together with what was chosen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.results.store import RunDir


def describe_params(params: Mapping[str, Any]) -> str:
    """``C=0.5, penalty=l2`` (floats to 4 significant digits)."""
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


def tuning_notes(run: RunDir) -> list[str]:
    """``fnc1/word/svm: C=2 (seed 0), C=0.5 (seed 1) [3-fold inner CV on fnc1_score, 3 candidates]``.

    With outer CV, the choices of one seed are listed per outer fold, separated by `` | ``.
    """
    systems: dict[tuple[str, str, str], list[str]] = {}
    how: dict[tuple[str, str, str], str] = {}
    done = run.finished_jobs()
    for job_id in run.job_ids():
        if job_id not in done:
            continue
        job = run.job(job_id)
        tuning = job.get("tuning")
        if not tuning:
            continue
        key = (str(job.get("dataset")), str(job.get("features")), str(job.get("model")))
        chosen = " | ".join(describe_params(t.get("params") or {}) for t in tuning)
        systems.setdefault(key, []).append(f"{chosen} (seed {job.get('seed')})")
        first = tuning[0]
        how[key] = (f"{first.get('folds')}-fold inner CV on {first.get('metric')}, "
                    f"{len(first.get('candidates') or [])} candidates"
                    + (", chosen per outer fold" if len(tuning) > 1 else ""))
    return [f"{'/'.join(key)}: {', '.join(choices)} [{how[key]}]" for key, choices in systems.items()]
