"""Robustness probes in a job: the same trained model scored on perturbed copies of the test items.

The model is fitted once per unit: its test input is the clean test rows followed by every
probe's version of them, stacked, and one ``fit_predict`` call predicts them all; the
predictions are then split back. A prediction of one row does not depend on the other rows
for any estimator newsbench registers (linear models, naive Bayes, trees predict row by
row), so the clean predictions are those of a run without probes (tests/test_probes.py
checks this on real data).

Feature blocks transform the perturbed texts with the vectorizer fitted on the clean
training rows: the probe versions of a unit's test rows go through ``load_or_fit_features``
as one test frame whose ids are tagged with the probe's label and ``PERTURB_VERSION``, so the
cache key (``split_hash`` of the ids) differs from the clean entry and from any other probe
set, and a cache entry never answers for another probe. Fitting is deterministic for the
same training rows, so the vectorizer is the clean one; that entry holds every probe of the
block and unit, and later models and seeds read it from the cache. Text-in models get the
perturbed texts directly.

A probe that needs headline/body pairs is skipped on single-text datasets; the job's record
lists it under ``probes_skipped`` (``bench validate`` refuses a probe that fits no dataset).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.corpus.perturb import PERTURB_VERSION, Perturbed, Probe, perturb_items, resolve_probe

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from bench.config.spec import EvaluationSpec
    from bench.learn.tasks import Prediction
    from bench.run.units import Unit


def job_probes(evaluation: EvaluationSpec, *, stance: bool) -> tuple[list[Probe], dict[str, str]]:
    """The probes a job applies, and those it skips with the reason."""
    probes, skipped = [], {}
    for spec in evaluation.probes or ():
        probe = resolve_probe(spec.name, spec.params)
        if probe.kind.pairs_only and not stance:
            skipped[probe.label] = "needs headline/body pairs; this dataset has single texts"
        else:
            probes.append(probe)
    return probes, skipped


_PERTURBED: dict[tuple[str, str, str], Perturbed] = {}
_MAX_PERTURBED = 16  # a dataset's probes; a probe of FNC-1's 9,622 test pairs holds 23 MB (pandas deep memory_usage)


def _perturbed(dataset: Any, unit: Unit, probe: Probe) -> Perturbed:
    """``perturb_items`` of a unit's test rows, kept for the next job of the same process.

    The models and seeds of a dataset share their test rows; perturbing FNC-1's pairs once
    per probe instead of once per job saves half a minute per job. The key is the dataset's
    fingerprint, the test ids and the probe label (parameters included), and the output is
    a function of those alone, so a kept entry is the entry that would be computed.
    """
    from bench.learn.cache import split_hash

    key = (dataset.fingerprint, split_hash([], unit.test["id"].astype(str).to_list()), probe.label)
    if key not in _PERTURBED:
        while len(_PERTURBED) >= _MAX_PERTURBED:
            del _PERTURBED[next(iter(_PERTURBED))]
        _PERTURBED[key] = perturb_items(unit.test, probe, stance=dataset.task == "stance")
    return _PERTURBED[key]


@dataclass
class ProbeRun:
    """A job's probes across its units: stacks their inputs, splits and keeps their predictions."""

    job: Any  # a bench.run.runner.Job (not imported: runner imports this module)
    probes: list[Probe]
    skipped: dict[str, str]
    frames: list[pd.DataFrame] = field(default_factory=list)  # per unit: probe predictions frames
    _pending: list[Perturbed] = field(default_factory=list)
    _n_clean: int = 0

    @classmethod
    def for_job(cls, job: Any) -> ProbeRun:
        probes, skipped = job_probes(job.evaluation, stance=job.dataset.task == "stance")
        return cls(job=job, probes=probes, skipped=skipped)

    def stack(self, unit: Unit, X_test: Any) -> Any:
        """The unit's clean test input followed by each probe's (the same input when there are no probes)."""
        self._n_clean = len(unit.test)
        if not self.probes:
            self._pending = []
            return X_test
        self._pending = [_perturbed(self.job.dataset, unit, probe) for probe in self.probes]
        stance = self.job.dataset.task == "stance"
        if self.job.features.kind == "text":
            from bench.learn.models import text_inputs

            stacked: Any = list(X_test) + [x for p in self._pending for x in text_inputs(p.items, stance=stance)]
        else:
            from scipy import sparse

            stacked = sparse.vstack([X_test, self._probe_matrix(unit)], format="csr")
        return stacked

    def route(self, targets: dict[str, Any]) -> dict[str, Any]:
        """Per-target models pick a probe row's model by the clean row's target (body_only empties it)."""
        import numpy as np

        if not self._pending or "test_targets" not in targets:
            return targets
        return {**targets, "test_targets": np.tile(targets["test_targets"], 1 + len(self._pending))}

    def _probe_matrix(self, unit: Unit) -> Any:
        """Every probe's test rows through the block fitted on the clean training rows (cached)."""
        import pandas as pd

        from bench.learn.cache import load_or_fit_features, split_hash
        from bench.run.units import feature_cache, feature_seed

        job = self.job
        tagged = pd.concat([p.items.assign(id=[f"{p.probe.label}\x00v{PERTURB_VERSION}\x00{i}"
                                               for i in p.items["id"].astype(str)]) for p in self._pending],
                           ignore_index=True)
        mats = load_or_fit_features(feature_cache(job.cache_dir), job.features, job.blocks, unit.train, tagged,
                                    stance=job.dataset.task == "stance", seed=feature_seed(job.evaluation),
                                    fingerprint=job.fingerprint,
                                    train_ids_hash=split_hash(unit.train["id"].to_list(), tagged["id"].to_list()))
        return mats.X_test

    def split(self, out: Prediction, unit: Unit, y_test: np.ndarray) -> Prediction:
        """The clean part of a stacked prediction; the probes' parts become predictions frames."""
        from dataclasses import replace

        from bench.run.predictions import prediction_frame

        if not self._pending:
            return out
        n, labels, multilabel = self._n_clean, self.job.labels, self.job.dataset.multilabel
        for i, perturbed in enumerate(self._pending, start=1):
            part = slice(i * n, (i + 1) * n)
            test = unit.test.assign(fold=unit.fold) if unit.fold is not None else unit.test
            frame = prediction_frame(test, y_test, out.pred[part], None if out.scores is None else out.scores[part],
                                     labels, multilabel)
            frame.insert(0, "probe", perturbed.probe.label)
            self.frames.append(frame.assign(changed=perturbed.changed))
        return replace(out, pred=out.pred[:n], scores=None if out.scores is None else out.scores[:n])

    def predictions(self) -> pd.DataFrame | None:
        """All units' probe predictions, probe by probe in config order, items in the clean file's order."""
        import pandas as pd

        if not self.frames:
            return None
        frame = pd.concat(self.frames, ignore_index=True)
        order = {p.label: i for i, p in enumerate(self.probes)}
        return frame.sort_values("probe", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)

    def rows(self, clean: pd.DataFrame, split: str) -> list[dict[str, Any]]:
        """Pooled probe rows (``bench.results.probe_rows``) against the job's clean predictions frame."""
        from bench.results.probe_rows import score_probe_frame

        frame = self.predictions()
        if frame is None:
            return []
        job = self.job
        return score_probe_frame(clean, frame, job.row_key(split), labels=job.labels,
                                 multilabel=job.dataset.multilabel, metrics=job.evaluation.metrics,
                                 bootstrap=job.evaluation.bootstrap, where=f"job {job.job_id}")

    def report(self, n_test: int) -> dict[str, Any]:
        """For the job record: each probe's changed items, and the skipped probes with why."""
        if not self.probes and not self.skipped:
            return {}
        frame = self.predictions()
        changed = ({} if frame is None else
                   {str(k): int(v) for k, v in frame.groupby("probe", sort=False)["changed"].sum().items()})
        out: dict[str, Any] = {"probes": {p.label: {"n_changed": changed.get(p.label, 0), "n": n_test}
                                          for p in self.probes}}
        if self.skipped:
            out["probes_skipped"] = dict(self.skipped)
        return out

