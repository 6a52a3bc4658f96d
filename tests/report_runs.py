"""Real ``bench run`` runs for the report tests: 3 runs x 3 tiny datasets x 3 models.

The datasets are written into a temporary folder: the tiny stance and English topic sets
of ``tests.tiny_news``, and a French topic set with accented labels, two outlets and
varied text lengths (so that slices have numbers and fonts must draw accents). The runs
are built once per test session (a marker file says they are complete) and shared by
``test_report.py`` and ``test_report_browser.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

FRENCH_WORDS = {
    "économie": "marché bourse entreprise croissance inflation emploi impôts dépenses banque",
    "santé": "hôpital médecin vaccin épidémie soins malades pharmacie infirmière prévention",
    "société": "école famille élèves logement quartier bénévoles retraités associations fête",
}
FRENCH_SHARED = "le la les des une selon été mercredi région année cette après".split()
OUTLETS = ("Le Monde", "Ouest-France")


@dataclass(frozen=True)
class ReportRuns:
    """Where the runs and their built datasets are."""

    root: Path
    runs: tuple[Path, ...]
    data: Path


def _french_rows(n: int, start: int, rng: np.random.Generator) -> list[dict[str, str]]:
    labels = list(FRENCH_WORDS)
    every = sorted({w for ws in FRENCH_WORDS.values() for w in ws.split()})
    rows = []
    for i in range(n):
        label = labels[i % 3]
        own = FRENCH_WORDS[label].split()
        size = int(rng.choice((8, 20, 45)))
        pools = rng.choice(3, size=size, p=[0.3, 0.25, 0.45])
        text = " ".join(str(rng.choice((own, every, FRENCH_SHARED)[k])) for k in pools)
        rows.append({"id": f"fr{start + i}", "text": f"{text} n°{i}", "label": label,
                     "source": OUTLETS[(i // 3) % 2]})
    return rows


def write_french(folder: Path, *, n_train: int = 45, n_test: int = 60, name: str = "actu_fr") -> Path:
    """A French topic dataset (économie/santé/société, two outlets) and its spec; returns the spec."""
    from tests.tiny_news import write_csv_dataset

    rng = np.random.default_rng(5)
    splits = {"train": _french_rows(n_train, 0, rng), "test": _french_rows(n_test, 1000, rng)}
    return write_csv_dataset(folder, name, splits, """task: topic
language: fr
columns: {id: id, text: text, label: label, source: source}
labels: [économie, santé, société]
""")


def _run(config: Path, data: Path, results: Path, *overrides: str) -> Path:
    from bench.cli import main

    before = {p for p in results.iterdir()} if results.is_dir() else set()
    args = ["run", str(config), "--data", str(data), "--results", str(results), "--quiet"]
    for override in overrides:
        args += ["--set", override]
    if main(args) != 0:
        raise RuntimeError(f"bench run {config} {overrides} failed")
    (run,) = [p for p in results.iterdir() if p not in before and p.is_dir() and not p.name.startswith(".")]
    return run


def build_report_runs(root: Path) -> ReportRuns:
    """Three complete runs (base, tuned, bigrams) on three datasets under ``root`` (built once)."""
    from tests.tiny_news import write_stance, write_topic

    marker = root / "runs.txt"
    if marker.is_file():
        runs = tuple(Path(line) for line in marker.read_text(encoding="utf-8").splitlines())
        return ReportRuns(root=root, runs=runs, data=root / "data")
    root.mkdir(parents=True, exist_ok=True)
    specs = [write_stance(root / "src" / "stance", n_train=36, n_test=30),
             write_topic(root / "src" / "topic", n_train=30, n_test=30),
             write_french(root / "src" / "fr")]
    config = root / "report.yaml"
    config.write_text(f"""name: base
datasets: [{', '.join(str(s) for s in specs)}]
features:
  - {{name: word, kind: tfidf}}
models:
  - {{name: majority, estimator: majority}}
  - {{name: logreg, estimator: logistic_regression}}
  - {{name: nb, estimator: multinomial_nb}}
seeds: [0, 1]
evaluation:
  metrics: [accuracy, f1_macro]
  bootstrap: {{samples: 200}}
""", encoding="utf-8")
    data, results = root / "data", root / "results"
    runs = (_run(config, data, results),
            _run(config, data, results, "name=tuned", "models.1.params={C: 0.2}", "models.2.params={alpha: 3.0}"),
            _run(config, data, results, "name=bigrams", "features.0.params={ngram_range: [1, 2]}"))
    marker.write_text("\n".join(str(r) for r in runs), encoding="utf-8")
    return ReportRuns(root=root, runs=runs, data=data)
