"""Run configs as frozen data: the spec dataclasses and their snapshot (validation lives in bench.run)."""
