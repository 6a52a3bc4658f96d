"""One generic registry for metrics, models, features and tasks.

Entries carry their own metadata (a ``MetricSpec`` knows whether greater is better), so
there are no parallel lookup tables. Registering a name twice fails at import; a miss
raises ``UnknownNameError`` with close matches, and with the names a common alias stands for
(``logreg`` -> ``logistic_regression``): aliases only suggest, they never resolve, so a config
always names what it runs. A registry with an ``adapt`` function also holds the entries of
installed plugins (``bench.core.plugins``), loaded on its first lookup.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar

from bench.core.errors import RegistryError, UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one kind (``"metric"``, ``"estimator"``, ...)."""

    def __init__(self, kind: str, aliases: Mapping[str, Sequence[str]] | None = None, *,
                 adapt: Callable[[str, Any, str], T] | None = None) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._aliases = {alias.lower(): tuple(names) for alias, names in (aliases or {}).items()}
        self._adapt = adapt
        self._plugins_loaded = adapt is None
        self.origins: dict[str, str] = {}  # plugin name -> "package version"

    def add(self, name: str, entry: T) -> T:
        """Register ``entry`` under ``name`` and return it (so it can be bound to a constant)."""
        if name in self._entries:
            raise RegistryError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        from bench.core.plugins import GROUPS, load

        assert self._adapt is not None
        found: dict[str, tuple[T, str]] = {}
        for name, entry, plugin in load(GROUPS[self.kind], self._adapt):
            origin = f"{plugin.package} {plugin.version}"
            if name in self._entries or name in found:
                where = found[name][1] if name in found else "newsbench itself"
                raise RegistryError(f"plugin {name!r} ({GROUPS[self.kind]}) from package {origin} takes the "
                                    f"{self.kind} name {name!r}, already registered by {where}; rename the entry point "
                                    "or uninstall one of the packages")
            found[name] = (entry, origin)
        for name, (entry, origin) in found.items():
            self._entries[name] = entry
            self.origins[name] = origin
        self._plugins_loaded = True  # only now: a failed load fails again on the next lookup

    def get(self, name: str) -> T:
        """The entry for ``name``; ``UnknownNameError`` with suggestions when absent."""
        self._load_plugins()
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self.suggest(name)) from None

    def suggest(self, name: str) -> list[str]:
        """Registered names ``name`` may have meant: those its alias stands for, then close spellings."""
        self._load_plugins()
        key = str(name).lower()
        meant = [n for n in self._aliases.get(key, ()) if n in self._entries]
        meant += [n for n in self._entries if n.lower() == key]
        meant += difflib.get_close_matches(str(name), list(self._entries), n=3)
        return list(dict.fromkeys(meant))[:3]

    def __contains__(self, name: object) -> bool:
        self._load_plugins()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self._load_plugins()
        return len(self._entries)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        self._load_plugins()
        return sorted(self._entries)
