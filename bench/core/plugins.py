"""Registry entries from installed packages, through Python entry points (docs/models.md).

A third-party package adds models, feature kinds, metrics or dataset sources to newsbench by
declaring entry points in one group per registry (``newsbench.models``, ``newsbench.features``,
``newsbench.metrics``, ``newsbench.sources``): the entry point's name is the name configs use, and the object it
loads is the registry entry (or something the registry's ``adapt`` turns into one). They are
loaded on a registry's first lookup, not at import, so ``bench --help`` does not import
them. A plugin that fails to load, or that takes a name already registered, is a
``RegistryError`` naming the plugin and its package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from bench.core.errors import RegistryError

GROUPS = {"estimator": "newsbench.models", "feature kind": "newsbench.features", "metric": "newsbench.metrics",
          "dataset source": "newsbench.sources"}


@dataclass(frozen=True, kw_only=True)
class Plugin:
    """One installed entry point: what ``bench validate`` lists."""

    name: str
    kind: str
    value: str
    package: str
    version: str


def summary(obj: Any, default: str) -> str:
    """The first line of ``obj``'s docstring (a plugin's description), else ``default``."""
    lines = (getattr(obj, "__doc__", None) or "").strip().splitlines()
    return lines[0] if lines else default


def installed(group: str) -> list[Plugin]:
    """The entry points of ``group`` in every installed distribution, sorted by name."""
    out = []
    for ep in metadata.entry_points(group=group):
        dist = ep.dist
        out.append(Plugin(name=ep.name, kind=group, value=ep.value, package=dist.name if dist else "unknown",
                          version=dist.version if dist else "unknown"))
    return sorted(out, key=lambda p: (p.name, p.package))


def all_installed() -> list[Plugin]:
    """Every plugin of every group."""
    return [p for group in GROUPS.values() for p in installed(group)]


def load(group: str, adapt: Callable[[str, Any, str], Any]) -> list[tuple[str, Any, Plugin]]:
    """``(name, entry, plugin)`` for each entry point of ``group``, loaded and adapted.

    Args:
        group: the entry point group.
        adapt: ``(name, loaded object, import path)`` -> the registry entry; raises
            ``ValueError``/``TypeError`` when the object is not usable.
    """
    out = []
    for ep, plugin in zip(_entry_points(group), installed(group), strict=True):
        try:
            entry = adapt(ep.name, ep.load(), ep.value.replace(":", "."))
        except Exception as exc:  # noqa: BLE001 - a plugin's import can raise anything; say which plugin, once
            raise RegistryError(f"plugin {plugin.name!r} ({group}) from package {plugin.package} "
                                f"{plugin.version} cannot be loaded: {type(exc).__name__}: "
                                f"{str(exc).splitlines()[0] if str(exc) else ''}; fix or uninstall the package"
                                ) from None
        out.append((ep.name, entry, plugin))
    return out


def _entry_points(group: str) -> list[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=group),
                  key=lambda ep: (ep.name, ep.dist.name if ep.dist else "unknown"))
