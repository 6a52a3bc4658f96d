"""Labeled news -> checked, split, fingerprinted datasets on disk (``data/<name>/``)."""
