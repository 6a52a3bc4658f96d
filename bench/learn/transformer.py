"""A fine-tuned transformer as a text-in model: any Hugging Face sequence-classification checkpoint.

``estimator: transformer`` with ``params: {model: ...}`` fine-tunes a checkpoint from a local
folder (``save_pretrained`` output) or a hub id at a pinned commit (``revision``), on texts
for topic tasks and on (target, text) pairs for stance (the target is the first segment).
Nothing here touches the network: every file is read with ``local_files_only``, so a hub
model must be in the local Hugging Face cache first (``hf download ID --revision SHA``,
docs/models.md). A run that downloaded on its own could train on whatever the hub serves
that day.

This module imports neither torch nor transformers: the class is built when a config is
checked, on installs without the ``transformers`` extra too (which is then a one-line
error). The training loop is in ``bench.learn.finetune``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklearn.base import BaseEstimator, ClassifierMixin

from bench.learn.models import ModelParamError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["FineTunedTransformer"]

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
PRECISIONS = ("fp16", "bf16")
INSTALL = ("pip install torch==2.13.0 first, then pip install 'newsbench[transformers]' (a plain `pip install torch` "
           "may fetch a multi-GB GPU build)")


def _positive(key: str, value: Any, kind: type, *, zero: bool = False) -> None:
    ok = isinstance(value, kind) and not isinstance(value, bool) and (value >= 0 if zero else value > 0)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        ok = value >= 0 if zero else value > 0
    if not ok:
        expected = "a number" if kind is float else "an integer"
        raise ModelParamError(f"params.{key}", f"expected {expected} {'>= 0' if zero else '> 0'}, found {value!r}")


def model_source(model: str, revision: str | None) -> tuple[str, str | None]:
    """``(what from_pretrained reads, revision)``: a local folder (absolute) or a hub id at a commit.

    Raises:
        ModelParamError: no such folder, a hub id without a pinned 40-hex commit, or a
            revision given with a folder.
    """
    if not isinstance(model, str) or not model:
        raise ModelParamError("params.model", f"expected a folder or a hub id such as xlm-roberta-base, found {model!r}")
    folder = Path(model).expanduser()
    if folder.is_dir():
        if revision is not None:
            raise ModelParamError("params.revision", f"{model!r} is a local folder, which has no revisions; "
                                  "remove revision")
        return str(folder.resolve()), None
    if model.startswith((".", "/", "~")) or not _HUB_ID.match(model):
        raise ModelParamError("params.model", f"no folder {model!r} (relative to the folder bench runs in); give "
                              "the folder save_pretrained wrote, or a hub id such as xlm-roberta-base")
    if revision is None or not _COMMIT.match(str(revision)):
        found = "no revision" if revision is None else f"revision {revision!r}"
        raise ModelParamError("params.revision", f"hub model {model!r} needs a pinned revision, found {found}; "
                              "give the 40-character commit hash of the version to fine-tune (a branch or tag "
                              "can move, and the run would no longer say what it trained)")
    return model, str(revision)


def fit_fingerprint(params: dict[str, Any], X: list[Any], y: Any) -> str:
    """sha256 of what one fit depends on: a checkpoint is resumed only by the same fit."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode())
    for item in X:
        for part in (item if isinstance(item, tuple) else (item,)):
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\x1f")
        digest.update(b"\x1e")
    digest.update(repr([int(v) for v in y]).encode())
    return digest.hexdigest()


class FineTunedTransformer(ClassifierMixin, BaseEstimator):
    """Fine-tunes a sequence-classification checkpoint on the training texts or pairs, then predicts.

    Args:
        model: a folder written by ``save_pretrained`` (model and tokenizer), or a hub id
            (e.g. ``xlm-roberta-base``) already in the local Hugging Face cache.
        revision: the hub commit (40 hex digits); required for a hub id, refused for a folder.
        max_length: tokens per item; longer items are cut (pairs: ``longest_first``, which
            takes tokens from the longer segment, in practice the article body).
        epochs: passes over the training rows.
        learning_rate: AdamW's peak learning rate.
        batch_size: items per optimizer step (and per prediction batch).
        warmup: share of the steps over which the learning rate rises linearly from 0; it
            then falls linearly to 0 at the last step.
        weight_decay: AdamW's decoupled weight decay (not on biases and LayerNorm weights).
        mixed_precision: ``null`` (float32), ``fp16`` or ``bf16``; CUDA only.
        device: ``auto`` (the first GPU when there is one, else the CPU), ``cpu``, ``cuda`` or
            ``cuda:N``.
        max_grad_norm: gradients are clipped to this norm before each step.
        random_state: the job's seed (set by newsbench): head initialisation, data order, dropout.
    """

    newsbench_input = "text"

    def __init__(self, model: str = "", revision: str | None = None, max_length: int = 256, epochs: int = 3,
                 learning_rate: float = 2e-5, batch_size: int = 16, warmup: float = 0.1, weight_decay: float = 0.01,
                 mixed_precision: str | None = None, device: str = "auto", max_grad_norm: float = 1.0,
                 random_state: int | None = None) -> None:
        self.model, self.revision, self.max_length, self.epochs = model, revision, max_length, epochs
        self.learning_rate, self.batch_size, self.warmup, self.weight_decay = learning_rate, batch_size, warmup, weight_decay
        self.mixed_precision, self.device, self.max_grad_norm = mixed_precision, device, max_grad_norm
        self.random_state = random_state
        self._check()

    def _check(self) -> None:
        """Every parameter, and the extra, before anything trains (``bench validate`` runs this)."""
        if importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None:
            raise ModelParamError("estimator", f"transformer needs PyTorch and Hugging Face transformers; {INSTALL}")
        model_source(self.model, self.revision)
        for key in ("max_length", "epochs", "batch_size"):
            _positive(key, getattr(self, key), int)
        _positive("learning_rate", self.learning_rate, float)
        _positive("weight_decay", self.weight_decay, float, zero=True)
        _positive("max_grad_norm", self.max_grad_norm, float)
        if not (isinstance(self.warmup, (int, float)) and not isinstance(self.warmup, bool) and 0 <= self.warmup < 1):
            raise ModelParamError("params.warmup", f"expected the share of steps to warm up in [0, 1), "
                                  f"found {self.warmup!r}")
        if self.mixed_precision is not None and self.mixed_precision not in PRECISIONS:
            raise ModelParamError("params.mixed_precision", f"expected null, fp16 or bf16, found {self.mixed_precision!r}")
        if not (isinstance(self.device, str) and re.fullmatch(r"auto|cpu|cuda(:\d+)?", self.device)):
            raise ModelParamError("params.device", f"expected auto, cpu, cuda or cuda:N, found {self.device!r}")
        if self.mixed_precision is not None and self.device == "cpu":
            raise ModelParamError("params.mixed_precision", f"{self.mixed_precision} runs on CUDA only and device is "
                                  "cpu; set mixed_precision: null")

    def fit(self, X: list[Any], y: np.ndarray) -> FineTunedTransformer:
        """Fine-tune on ``X`` (texts, or (target, text) pairs) and label indices ``y``."""
        import numpy as np

        from bench.learn import finetune

        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError("the training rows have one label; a classifier needs two")
        labels = np.searchsorted(self.classes_, y)
        fingerprint = fit_fingerprint(self.get_params(), X, labels)
        source, revision = model_source(self.model, self.revision)
        settings = finetune.Settings(
            name=self.model, source=source, revision=revision, max_length=self.max_length, epochs=self.epochs,
            learning_rate=float(self.learning_rate), batch_size=self.batch_size, warmup=float(self.warmup),
            weight_decay=float(self.weight_decay), mixed_precision=self.mixed_precision, device=self.device,
            max_grad_norm=float(self.max_grad_norm), seed=int(self.random_state or 0))
        self.fitted_ = finetune.train(settings, X, labels, n_labels=len(self.classes_), fingerprint=fingerprint)
        self._cache: tuple[str, np.ndarray] | None = None
        return self

    def _logits(self, X: list[Any]) -> np.ndarray:
        """Logits of ``X``, computed once for ``predict`` then ``predict_proba`` on the same items."""
        from bench.learn import finetune

        key = fit_fingerprint({}, X, [])
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, finetune.logits(self.fitted_, X, max_length=self.max_length,
                                                batch_size=self.batch_size))
        return self._cache[1]

    def predict(self, X: list[Any]) -> np.ndarray:
        """The label index of highest probability for each item."""
        return self.classes_[self._logits(X).argmax(axis=1)]

    def predict_proba(self, X: list[Any]) -> np.ndarray:
        """Softmax probabilities, one column per label seen in training (``classes_``)."""
        import numpy as np

        logits = self._logits(X)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
