"""The bottom layer: errors, the registry, strict YAML, atomic files, ordered parallel work, HF imports."""
