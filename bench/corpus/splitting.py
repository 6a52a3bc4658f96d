"""Make the splits a spec asks for (``splits:``) from the checked rows, in the order written.

The arithmetic lives in ``bench.corpus.splits``; this module decides the *units* that must stay
together and turns a failed request into an error at the spec's key. Units: the group
(``columns.group``) when there is one, else the exact input text, so that copies of one
text never straddle a made split. Multi-label rows are stratified by their first label.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from bench.core.errors import DataError
from bench.corpus.rows import Audit, Rows, input_keys
from bench.corpus.spec import LoadedSpec, SplitSpec
from bench.corpus.splits import SplitError, ids_split, random_split, stratified_split, temporal_split

if TYPE_CHECKING:
    import pandas as pd


def make_splits(loaded: LoadedSpec, splits: dict[str, pd.DataFrame], rows: Rows,
                audit: Audit) -> dict[str, pd.DataFrame]:
    """``splits`` with each made split carved out of its ``from`` split."""
    out = dict(splits)
    for name, split in loaded.spec.splits.items():
        key = ("splits", name)
        if split.from_split not in out:
            raise loaded.doc.error((*key, "from"), f"no split {split.from_split!r} to take rows from; "
                                   f"splits so far: {', '.join(out)}")
        if name in out:
            raise loaded.doc.error(key, f"split {name!r} already exists in the source; "
                                   "choose another name or remove it from source")
        frame = out[split.from_split]
        if frame.empty:  # nothing to carve (a source with a header and no rows)
            raise loaded.doc.error(key, f"split {split.from_split!r} has no rows to take {name!r} from; "
                                   "give a source with rows")
        mask, record = _mask(loaded, name, split, frame, rows)
        n_test = int(mask.sum())
        if n_test == 0 or n_test == len(frame):
            side = "no row" if n_test == 0 else "every row"
            raise loaded.doc.error(key, f"{side} of {split.from_split!r} goes to {name!r}; "
                                   "change size, ids or after so both sides keep rows")
        out[name] = frame[mask].reset_index(drop=True)
        out[split.from_split] = frame[~mask].reset_index(drop=True)
        record.update({"from": split.from_split, "n_rows": n_test})
        audit.splits_made[name] = record
    return out


def _units(frame: pd.DataFrame, by_group: bool) -> np.ndarray:
    if by_group and "group" in frame.columns:
        return frame["group"].to_numpy(dtype=object).astype(str)
    return input_keys(frame)


def _mask(loaded: LoadedSpec, name: str, split: SplitSpec, frame: pd.DataFrame,
          rows: Rows) -> tuple[np.ndarray, dict[str, Any]]:
    key = ("splits", name)
    has_group = "group" in frame.columns
    try:
        if split.size is not None:
            by = split.by or "label"
            units = _units(frame, by_group=has_group)
            record: dict[str, Any] = {"method": by, "size": split.size, "seed": split.seed,
                                      "units": "group" if has_group else "identical text"}
            if by == "label":
                labels = [v[0] if isinstance(v, list) else v for v in frame["label"]]
                return stratified_split(labels, split.size, split.seed, units=units), record
            return random_split(len(frame), split.size, split.seed, units=units), record
        if split.ids is not None:
            return _ids_mask(loaded, name, split, frame)
        return _temporal_mask(loaded, split, frame, rows), {"method": "temporal", "after": str(split.after)}
    except SplitError as exc:
        raise loaded.doc.error(key, str(exc)) from None


def _ids_mask(loaded: LoadedSpec, name: str, split: SplitSpec,
              frame: pd.DataFrame) -> tuple[np.ndarray, dict[str, Any]]:
    key = ("splits", name, "ids")
    path = loaded.resolve(split.ids) if split.ids is not None else None
    if path is None or not path.is_file():
        raise loaded.doc.error(key, f"file not found: {path}; check the path (and NEWSBENCH_DATA if used)")
    try:
        wanted = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except UnicodeDecodeError:
        raise DataError(path, None, "", "not valid UTF-8; save the id list as UTF-8 text") from None
    wanted = [w for w in wanted if w]
    if not wanted:
        raise DataError(path, None, "", "no ids in the file; write one id per line")
    by = split.by or "id"
    field = "group" if by == "group" else "id"
    mask, missing = ids_split(frame[field].to_numpy(dtype=object), wanted)
    if not mask.any():
        raise DataError(path, 1, "", f"none of the {len(wanted)} {field}s matches a row of "
                        f"{split.from_split!r} (first: {wanted[0]!r}); check the file and `by`")
    record: dict[str, Any] = {"method": f"ids by {by}", "ids_file": path.name, "n_ids": len(set(wanted)),
                              "ids_not_found": len(missing)}
    if by == "id" and "group" in frame.columns:
        groups = frame["group"].to_numpy(dtype=object).astype(str)
        straddling = set(groups[mask].tolist()) & set(groups[~mask].tolist())
        record["groups_straddling"] = len(straddling)
    return mask, record


def _temporal_mask(loaded: LoadedSpec, split: SplitSpec, frame: pd.DataFrame, rows: Rows) -> np.ndarray:
    import pandas as pd

    raw = frame["date"].to_numpy(dtype=object)
    dates = pd.to_datetime(pd.Series(raw), errors="coerce", format="mixed", utc=True)
    bad = dates.isna().to_numpy()
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise rows.error(frame, first, f"date {raw[first]!r} is not a date ({int(bad.sum())} rows); "
                         "write ISO dates (2024-01-31) or drop the rows with where:")
    days = dates.dt.tz_convert(None).to_numpy().astype("datetime64[D]")
    if split.after is None:
        raise loaded.doc.error(("splits",), "a temporal split needs after:")
    return temporal_split(days, split.after)
