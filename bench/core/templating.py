"""The jinja2 environments that write newsbench's HTML: every value is escaped on the way in.

Markup lives in ``templates/*.j2`` beside the package that renders it, never in Python
strings, so escaping is not a convention to remember: run names, labels and item texts can
hold any character. Only what a template itself rendered is ``Markup`` and goes in as is.
An undefined name fails the rendering instead of printing nothing.
"""

from __future__ import annotations

from functools import cache

import jinja2
from markupsafe import Markup


@cache
def environment(package: str) -> jinja2.Environment:
    """The templates of ``package`` (e.g. ``bench.report``), loaded from its ``templates`` folder."""
    return jinja2.Environment(loader=jinja2.PackageLoader(package, "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True)


def render(package: str, template: str, **context: object) -> Markup:
    """``template`` of ``package`` filled with ``context``, as ``Markup`` (safe to nest in another template)."""
    return Markup(environment(package).get_template(template).render(**context))
