"""A multilayer perceptron over feature blocks, in PyTorch (optional extra ``neural``).

Written to reproduce the UCLMR system for FNC-1 (Riedel et al. 2017, arXiv:1707.03264), so
its defaults are that system's settings: one hidden layer of 100 ReLUs, dropout 0.4 on the
hidden layer and on the logits, softmax, Adam at learning rate 0.01, an L2 penalty of 1e-5
on the weights (not the biases) added to every example's loss, the loss summed over a
batch of 500, the gradients clipped to a global norm of 5, 90 epochs, the last incomplete
batch of each epoch dropped, Glorot-uniform weights and zero biases. ``configs/fnc1_uclmr.yaml``
spells them out.

A sparse feature matrix stays sparse: each batch's first layer is a sparse-dense product
(scipy's, forward and backward), and only a batch's hidden activations are dense.

Determinism: initial weights, batch order and dropout masks come from generators seeded
with ``random_state``, never from torch's global one, and fitting runs with
``torch.use_deterministic_algorithms(True)`` and ``threads`` intra-op threads (both are
process-wide settings, restored afterwards). Two fits with one seed give the same
weights bit for bit (tests/test_neural.py).

Speed: fitting and predicting flush subnormal floats to zero (``torch.set_flush_denormal``, the
thread's CPU setting, so scipy's products inside obey it too; switched off again afterwards).
Under the L2 penalty, the weights and Adam moments of rarely seen columns shrink into the
subnormal range after some epochs, where each operation costs many times a normal one: one
FNC-1 UCLMR job of 30 epochs took 65.4 s without the flush and 16.4 s with it. The flush is
deterministic, so a seed still gives one set of bits.

torch is imported inside the methods: the registry names this module, and importing it
must work without the extra (a missing extra is then one line at the config's check).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions

from bench.core.errors import MissingExtraError

INSTALL = "pip install 'newsbench[neural]' (in a checkout: pip install -e '.[neural]')"
PREDICT_ROWS = 4096  # rows per forward pass at prediction time: bounds memory, not results

__all__ = ["TorchMLP", "import_torch"]


def import_torch() -> Any:
    """The ``torch`` module, or a one-line error that says how to install it."""
    try:
        import torch
    except ImportError:
        raise MissingExtraError(f"estimator torch_mlp needs PyTorch; install it with: {INSTALL}") from None
    return torch


class TorchMLP(ClassifierMixin, BaseEstimator):
    """A feed-forward network with dropout, trained by Adam on a feature block.

    Args:
        hidden_units: units of the hidden layer, or a list for several hidden layers.
        dropout: dropout rate after each hidden layer's ReLU (UCLMR: keep probability 0.6).
        output_dropout: dropout rate on the logits while training (UCLMR's code has it).
        epochs: passes over the training rows; no early stopping.
        batch_size: rows per gradient step.
        learning_rate: Adam's step size.
        weight_decay: L2 penalty ``weight_decay * sum(w**2) / 2`` on the weights (not the
            biases), added to each example's loss as in UCLMR's code.
        loss_reduction: ``sum`` or ``mean`` of the examples' losses in a batch (UCLMR:
            ``sum``, so the penalty counts once per example).
        clip_norm: the gradients' global norm is scaled down to this (None: no clipping).
        drop_last: skip each epoch's last incomplete batch (UCLMR does).
        threads: torch intra-op threads while fitting and predicting.
        random_state: the seed of weights, batch order and dropout (set from the run's seed).
    """

    _parameter_constraints: ClassVar[dict] = {
        "hidden_units": [Interval(Integral, 1, None, closed="left"), list, tuple],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "output_dropout": [Interval(Real, 0, 1, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "loss_reduction": [StrOptions({"sum", "mean"})],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "drop_last": ["boolean"],
        "threads": [Interval(Integral, 1, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(self, hidden_units: int | list[int] = 100, dropout: float = 0.4, output_dropout: float = 0.4,
                 epochs: int = 90, batch_size: int = 500, learning_rate: float = 0.01, weight_decay: float = 1e-5,
                 loss_reduction: str = "sum", clip_norm: float | None = 5.0, drop_last: bool = True,
                 threads: int = 1, random_state: int | None = None) -> None:
        self.hidden_units, self.dropout, self.output_dropout = hidden_units, dropout, output_dropout
        self.epochs, self.batch_size, self.learning_rate = epochs, batch_size, learning_rate
        self.weight_decay, self.loss_reduction, self.clip_norm = weight_decay, loss_reduction, clip_norm
        self.drop_last, self.threads, self.random_state = drop_last, threads, random_state

    def _validate_params(self) -> None:
        """scikit-learn's checks, the hidden layer sizes, and that PyTorch is installed.

        ``bench validate`` calls this through ``check_model_params``, so a missing extra is
        reported at the model's line of the config before anything runs.
        """
        super()._validate_params()
        units = self._units()
        if not units or any(isinstance(u, bool) or not isinstance(u, Integral) or u < 1 for u in units):
            raise InvalidParameterError(f"The 'hidden_units' parameter of TorchMLP must be an int >= 1 or a "
                                        f"non-empty list of them. Got {self.hidden_units!r} instead.")
        try:
            import_torch()
        except MissingExtraError as exc:
            from bench.learn.models import ModelParamError

            raise ModelParamError("estimator", str(exc)) from None

    def _units(self) -> list[Any]:
        return list(self.hidden_units) if isinstance(self.hidden_units, list | tuple) else [self.hidden_units]

    # --- fitting ---------------------------------------------------------------------------

    def fit(self, X: Any, y: Any) -> TorchMLP:
        """Train on rows ``X`` (sparse or dense) and labels ``y`` (one label per row)."""
        torch = import_torch()
        self._validate_params()
        X, y = _matrix(X), np.asarray(y)
        if y.ndim != 1 or len(y) != X.shape[0]:
            raise ValueError(f"TorchMLP takes one label per row (y of shape ({X.shape[0]},)), got shape {y.shape}; "
                             "multi-label data is fitted one label at a time (OneVsRestClassifier)")
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"TorchMLP needs at least two classes in y, got {list(self.classes_)}")
        self.n_features_in_ = X.shape[1]
        seed = self.random_state if self.random_state is not None else int(np.random.SeedSequence().generate_state(1)[0])
        order_rng = np.random.default_rng(seed)
        with _torch_settings(torch, self.threads):
            gen = torch.Generator().manual_seed(seed)
            sizes = [X.shape[1], *self._units(), len(self.classes_)]
            self.weights_ = [_glorot(torch, n_in, n_out, gen) for n_in, n_out in itertools.pairwise(sizes)]
            self.biases_ = [torch.zeros(n_out, requires_grad=True) for n_out in sizes[1:]]
            params = [*self.weights_, *self.biases_]
            optimizer = torch.optim.Adam(params, lr=self.learning_rate, fused=True)  # one pass: 3x faster here
            targets = torch.from_numpy(codes.astype(np.int64))
            n = X.shape[0]
            step = min(self.batch_size, n)
            n_batches = n // step if self.drop_last else -(-n // step)
            self.loss_curve_ = []
            for _ in range(self.epochs):
                order, total = order_rng.permutation(n), 0.0
                for b in range(n_batches):
                    rows = order[b * step:(b + 1) * step]
                    logits = self._forward(torch, X[rows], gen)
                    loss = torch.nn.functional.cross_entropy(logits, targets[rows], reduction=self.loss_reduction)
                    optimizer.zero_grad(set_to_none=False)
                    loss.backward()
                    self._penalize_and_clip(torch, params, len(rows))
                    optimizer.step()
                    total += loss.item()
                self.loss_curve_.append(total)
        return self

    def _penalize_and_clip(self, torch: Any, params: list[Any], n_rows: int) -> None:
        """Add the L2 penalty's gradient to the weights' and clip the global norm (as TensorFlow's
        ``clip_by_global_norm``: scaled by ``clip / max(norm, clip)``)."""
        with torch.no_grad():
            if self.weight_decay:
                scale = self.weight_decay * (n_rows if self.loss_reduction == "sum" else 1)
                for weight in self.weights_:
                    weight.grad.add_(weight, alpha=scale)
            if self.clip_norm is not None:
                norm = float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in params])))
                if norm > self.clip_norm:
                    for p in params:
                        p.grad.mul_(self.clip_norm / norm)

    def _forward(self, torch: Any, batch: Any, gen: Any | None) -> Any:
        """Logits of a batch; dropout when ``gen`` is given (training)."""
        if hasattr(batch, "indptr"):
            h = _SparseMatmul.get(torch).apply(self.weights_[0], batch)
        else:
            h = torch.from_numpy(np.ascontiguousarray(batch)) @ self.weights_[0]
        h = h + self.biases_[0]
        for weight, bias in zip(self.weights_[1:], self.biases_[1:], strict=True):
            h = _dropout(torch, torch.relu(h), self.dropout, gen)
            h = h @ weight + bias
        return _dropout(torch, h, self.output_dropout, gen)

    # --- predicting ------------------------------------------------------------------------

    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax probabilities, one column per class of ``classes_``."""
        torch = import_torch()
        X = _matrix(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, TorchMLP was fitted with {self.n_features_in_}")
        parts = []
        with _torch_settings(torch, self.threads), torch.no_grad():
            for start in range(0, X.shape[0], PREDICT_ROWS):
                logits = self._forward(torch, X[start:start + PREDICT_ROWS], None)
                parts.append(torch.softmax(logits.double(), dim=1).numpy())
        return np.vstack(parts) if parts else np.zeros((0, len(self.classes_)))

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _matrix(X: Any) -> Any:
    """CSR (sorted indices) or a dense C array, float32: the network's precision."""
    from scipy import sparse

    if sparse.issparse(X):
        X = sparse.csr_matrix(X, dtype=np.float32)
        X.sort_indices()
        return X
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"TorchMLP takes a 2-D feature matrix, got shape {X.shape}")
    return X


def _glorot(torch: Any, n_in: int, n_out: int, gen: Any) -> Any:
    """Glorot-uniform weights (in, out): U(-b, b), b = sqrt(6 / (n_in + n_out))."""
    bound = (6.0 / (n_in + n_out)) ** 0.5
    weight = (torch.rand(n_in, n_out, generator=gen) * 2.0 - 1.0) * bound
    return weight.requires_grad_()


def _dropout(torch: Any, h: Any, rate: float, gen: Any | None) -> Any:
    """Inverted dropout with masks from ``gen`` (torch's own dropout draws from the global generator)."""
    if gen is None or rate == 0:
        return h
    keep = torch.rand(h.shape, generator=gen) >= rate
    return h * keep / (1.0 - rate)


@contextlib.contextmanager
def _torch_settings(torch: Any, threads: int) -> Iterator[None]:
    """Deterministic algorithms, ``threads`` threads and subnormals flushed to zero inside; the
    process's settings restored after (flushing is off by default and torch cannot read it back)."""
    old_threads, old_deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_deterministic)


class _SparseMatmul:
    """``batch @ weight`` for a scipy CSR batch, with the weight's gradient ``batch.T @ grad``.

    scipy's sparse products are single-threaded loops in a fixed order, so the gradient is the
    same bits on every run; measured faster here than torch's beta sparse CSR kernels.
    """

    _function: Any = None

    @classmethod
    def get(cls, torch: Any) -> Any:
        if cls._function is None:
            class Function(torch.autograd.Function):
                @staticmethod
                def forward(ctx: Any, weight: Any, batch: Any) -> Any:
                    ctx.batch = batch
                    return torch.from_numpy(np.asarray(batch @ weight.detach().numpy()))

                @staticmethod
                def backward(ctx: Any, grad: Any) -> tuple[Any, None]:
                    return torch.from_numpy(np.asarray(ctx.batch.T @ grad.detach().numpy())), None

            cls._function = Function
        return cls._function
