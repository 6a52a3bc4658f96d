"""How a transfer row names its system's dataset: ``fnc1→arc`` (trained on FNC-1, tested on ARC).

Rows of a transfer run (``bench.run.transfer``) carry ``train_dataset`` beside ``dataset``
(the test set). Tables, compare and the report key a system by one dataset string, so
two systems that differ only in their train dataset must get different strings there:
``system_dataset`` is ``<train>→<test>`` when they differ and the plain test name in-domain,
so an in-domain transfer row still pairs with an ordinary run on that dataset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

TRAIN_DATASET = "train_dataset"  # the row field
ARROW = "→"


def system_dataset(row: Mapping[str, Any]) -> str:
    """The dataset part of a row's system: ``dataset``, or ``<train_dataset>→<dataset>`` when they differ."""
    test = str(row["dataset"])
    train = row.get(TRAIN_DATASET)
    # a float here is pandas' NaN: a row without the field in a frame that has it
    return test if not isinstance(train, str) or train == test else f"{train}{ARROW}{test}"


def with_system_datasets(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (metric rows) with ``dataset`` replaced by ``system_dataset`` where rows have a train dataset."""
    if TRAIN_DATASET not in frame:
        return frame
    return frame.assign(dataset=[system_dataset(r) for r in frame[["dataset", TRAIN_DATASET]].to_dict("records")])


def dataset_parts(name: str) -> tuple[str, str]:
    """``(train, test)`` of a ``system_dataset`` name (``("arc", "arc")`` for ``arc``)."""
    train, sep, test = name.partition(ARROW)
    return (train, test) if sep else (name, name)


def label_dataset(name: str) -> str:
    """The dataset whose manifest entry gives a system's labels: the train dataset (the model's label space)."""
    return dataset_parts(name)[0]


def test_dataset(name: str) -> str:
    """The dataset a system was scored on (its items, its fingerprint in the manifest)."""
    return dataset_parts(name)[1]


def recorded_label_map(config: Mapping[str, Any] | None, train: str, test: str) -> dict[str, str | None]:
    """The ``label_map`` a run's snapshot config gave the pair ``train -> test`` (``{}`` if none)."""
    evaluation = (config or {}).get("evaluation") or {}
    for entry in evaluation.get("transfer") or []:
        if train in _names(entry.get("train")) and test in _names(entry.get("test")):
            return dict(entry.get("label_map") or {})
    return {}


def _names(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


def mapped_items(items: Any, label_map: Mapping[str, str | None]) -> Any:
    """A split's items with labels mapped as a transfer pair maps them; rows mapped to ``null`` left out."""
    labels = [label_map.get(str(v), str(v)) for v in items["label"]]
    keep = [v is not None for v in labels]
    return items.assign(label=labels)[keep].reset_index(drop=True)
