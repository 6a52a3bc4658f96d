"""newsbench: news stance and topic classification benchmarks with honest statistics."""

__version__ = "0.1.0"

__all__ = ["__version__"]
