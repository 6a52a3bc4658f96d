"""The types every feature module shares: a block's fitted matrices and its parameter error.

They live in a leaf module so that the modules that fit blocks (``features``), compute
embeddings (``embeddings``) and cache matrices (``cache``) need not import one another
to name them. The dependencies then run one way: ``cache`` -> ``features`` ->
``embeddings`` (only for the embedding block's parameter check) -> this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scipy import sparse


class FeatureParamError(ValueError):
    """A feature block parameter is wrong; ``str()`` is ``"<key>: <problem>; <fix>"``."""

    def __init__(self, key: str, problem: str) -> None:
        self.key, self.problem = key, problem
        super().__init__(f"{key}: {problem}")


@dataclass(frozen=True, kw_only=True, eq=False)
class FeatureMatrices:
    """Fitted features of one block for one train/test split.

    Attributes:
        X_train, X_test: CSR matrices with sorted indices, one row per input row, in order.
        n_features: number of columns.
        fit_seconds: time to fit and transform (0 when read from the cache).
        from_cache: whether the matrices were read from a ``FeatureCache``.
    """

    X_train: sparse.csr_matrix
    X_test: sparse.csr_matrix
    n_features: int
    fit_seconds: float = 0.0
    from_cache: bool = False
