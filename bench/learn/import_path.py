"""The shape of an import path (``package.module.Class``), checked before anything is imported.

Importing a module runs its code, so a config's ``estimator: a.b.C`` is refused by its shape
first: dotted Python identifiers, at least a module and a class name, no relative path
(``.mod.C``), no empty part (``a..C``), no keyword, no call or spaces (``os.system('x')``).
Only a path of the right shape is imported; docs/configs.md says that importing it runs the
module's code, as any Python import does.
"""

from __future__ import annotations

import keyword


def split_import_path(path: object) -> tuple[str, str]:
    """``(module, name)`` of ``package.module.Name``.

    Raises:
        ValueError: the path does not have that shape; the message says what is wrong.
    """
    if not isinstance(path, str) or not path:
        raise ValueError(f"an import path must be text like sklearn.svm.LinearSVC, got {path!r}")
    if path.startswith("."):
        raise ValueError(f"{path!r} is a relative import path; give the full path, e.g. sklearn.svm.LinearSVC")
    parts = path.split(".")
    if len(parts) < 2:
        raise ValueError(f"{path!r} names no module; give module and class, e.g. sklearn.svm.LinearSVC")
    for part in parts:
        if not part:
            raise ValueError(f"{path!r} has an empty part (a leading, trailing or doubled dot); "
                             "write it like sklearn.svm.LinearSVC")
        if not part.isidentifier() or keyword.iskeyword(part):
            raise ValueError(f"{path!r}: {part[:40]!r} is not a Python identifier; an import path is dotted "
                             "names only, like sklearn.svm.LinearSVC")
    module, _, name = path.rpartition(".")
    return module, name
