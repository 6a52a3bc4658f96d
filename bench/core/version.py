"""The package version, defined once: ``pyproject.toml`` reads it from here, and so does the code."""

__version__ = "0.1.0"
