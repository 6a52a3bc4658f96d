"""Import Hugging Face ``datasets`` with the network settings decided first.

``datasets`` reads its offline variables at import time, and without them every local
``load_dataset`` may wait seconds on telemetry. All project code imports ``datasets``
through ``import_datasets`` so that local work never touches the network and only a hub
source, when asked, may reach it.
"""

from __future__ import annotations

import os
import socket
import sys
from types import ModuleType

HUB_HOST = "huggingface.co"


def hub_reachable(timeout: float = 1.5) -> bool:
    """Whether the hub answers a TCP connection within ``timeout`` seconds."""
    try:
        with socket.create_connection((HUB_HOST, 443), timeout=timeout):
            return True
    except OSError:
        return False


def import_datasets(online: bool = False) -> ModuleType:
    """Import ``datasets`` offline unless ``online`` and the hub is reachable.

    The choice only counts before the first import; later calls reuse the module.
    """
    if "datasets" not in sys.modules:
        os.environ.setdefault("HF_UPDATE_DOWNLOAD_COUNTS", "0")
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        if not (online and hub_reachable()):
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import datasets

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    return datasets
