"""A resolved run config as plain data: the snapshot a run folder keeps, and its hash.

The YAML snapshot reads back (``bench.run.validate.load_config``) to an equal config, and the
hash changes with any setting, so that ``--resume`` can refuse a changed config.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.config.spec import RunConfig


def config_to_dict(config: RunConfig) -> dict[str, Any]:
    """Plain data (lists, dicts, scalars) in the YAML shape, for the snapshot and the hash."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                    if not (f.metadata.get("omit_if_none") and getattr(value, f.name) is None)}
        if isinstance(value, (tuple, list)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, Path):
            return str(value)
        return value

    return plain(config)


def config_hash(config: RunConfig) -> str:
    """sha256 hex of the canonical JSON of the resolved config."""
    text = json.dumps(config_to_dict(config), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def dump_config(config: RunConfig) -> str:
    """The resolved config as YAML that ``load_config`` reads back to an equal config."""
    import yaml

    return yaml.safe_dump(config_to_dict(config), sort_keys=False, allow_unicode=True, width=100)
