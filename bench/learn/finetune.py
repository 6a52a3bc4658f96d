"""The fine-tuning loop of ``bench.learn.transformer``: load, train epoch by epoch with checkpoints, predict.

A plain PyTorch loop (AdamW, linear warmup then linear decay, gradient clipping) rather than
transformers' ``Trainer``, because three things are simpler to get exactly right by hand:

- **Determinism.** The head is initialised after ``torch.manual_seed(seed)``; each epoch
  draws its data order from ``numpy.random.default_rng([seed, epoch])`` and seeds torch (dropout)
  from the same pair. An epoch's randomness depends on the seed and the epoch only, not on
  what ran before it in this process, so a job resumed at epoch k draws what the
  uninterrupted job drew.
- **Resume.** After each epoch the model, optimizer, scheduler and loss-scaler states go to
  the fit's checkpoint folder (``bench.learn.fitcontext``), written whole into a temporary
  folder and swapped in. A killed job starts from the last complete epoch; the work of the
  epoch in progress is done again, identically. A checkpoint is resumed only by a fit with
  the same fingerprint (parameters, texts, labels); another fit starts over and replaces it.
- **No network.** Everything is loaded with ``local_files_only=True``.

On the CPU, PyTorch runs on one thread (bit-identical metrics for a seed). On CUDA,
deterministic algorithms are asked for (``torch.use_deterministic_algorithms``
with ``warn_only``) and cuDNN autotuning is off; bit-identical reruns there also need the
same GPU model, driver and library versions.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.core.errors import BenchError
from bench.core.files import swap_folder, temp_folder, write_atomic, write_text
from bench.learn.fitcontext import FitContext, current_context

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Fitted", "Settings", "logits", "train"]

STATE, PROGRESS = "state.pt", "progress.json"
NO_DECAY = ("bias", "LayerNorm.weight", "layer_norm.weight", "layernorm.weight")


@dataclass(frozen=True, kw_only=True)
class Settings:
    """One fit's settings: ``bench.learn.transformer.FineTunedTransformer``'s checked parameters.

    ``name`` is the ``model`` parameter as the config gave it (for messages); ``source`` and
    ``revision`` what ``from_pretrained`` reads (an absolute folder, or a hub id at a commit).
    """

    name: str
    source: str
    revision: str | None
    max_length: int
    epochs: int
    learning_rate: float
    batch_size: int
    warmup: float
    weight_decay: float
    mixed_precision: str | None
    device: str
    max_grad_norm: float
    seed: int


@dataclass(frozen=True, kw_only=True, eq=False)
class Fitted:
    """A fine-tuned model ready to predict, on its device."""

    model: Any
    tokenizer: Any
    device: Any
    autocast: Any  # torch dtype for autocast, or None


def _libraries() -> tuple[Any, Any]:
    import torch
    import transformers

    transformers.logging.set_verbosity_error()  # "weights newly initialized": expected for a new head
    transformers.logging.disable_progress_bar()
    return torch, transformers


def _device(torch: Any, wanted: str) -> Any:
    if wanted == "auto":
        wanted = "cuda" if torch.cuda.is_available() else "cpu"
    if wanted.startswith("cuda") and not torch.cuda.is_available():
        raise BenchError(f"device {wanted!r}: no CUDA device is visible to PyTorch {torch.__version__}; use "
                         "device: auto or cpu")
    device = torch.device(wanted)
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # read when cuBLAS starts; deterministic GEMMs
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
        torch.use_deterministic_algorithms(True, warn_only=True)
    else:
        # Several CPU threads split reductions in an order that can change from process to process: a
        # resumed job's metrics then differed from an uninterrupted job's; one thread gives the same
        # metrics for the same seed (tests/test_transformers_model.py)
        torch.set_num_threads(1)
    return device


def device_name(torch: Any, device: Any) -> str:
    """``cpu`` or ``cuda:0 (<GPU name>)``, for the job report."""
    if device.type != "cuda":
        return "cpu"
    index = device.index if device.index is not None else torch.cuda.current_device()
    return f"cuda:{index} ({torch.cuda.get_device_name(index)})"


def _load(transformers: Any, est: Settings, n_labels: int) -> tuple[Any, Any]:
    source, revision = est.source, est.revision
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(source, revision=revision, local_files_only=True)
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            source, revision=revision, num_labels=n_labels, local_files_only=True, ignore_mismatched_sizes=True)
    except (OSError, ValueError, KeyError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        fix = ("check that the folder holds what save_pretrained wrote (config.json, the weights, the tokenizer)"
               if revision is None else f"newsbench never downloads: fetch it once with `hf download {source} "
               f"--revision {revision}`, into this machine's Hugging Face cache")
        raise BenchError(f"transformer model {est.name!r}: cannot be loaded ({first}); {fix}") from None
    if tokenizer.pad_token_id is None:
        raise BenchError(f"transformer model {est.name!r}: its tokenizer has no padding token, so items of a batch "
                         "cannot be padded to one length; use a checkpoint whose tokenizer defines pad_token")
    limit = getattr(model.config, "max_position_embeddings", None)
    if isinstance(limit, int) and est.max_length > limit:
        raise BenchError(f"transformer model {est.name!r}: max_length {est.max_length} exceeds the model's "
                         f"{limit} positions; set max_length <= {limit}")
    return tokenizer, model


def encode(tokenizer: Any, X: list[Any], max_length: int) -> dict[str, list[list[int]]]:
    """Token ids of every item, unpadded; pairs as (target, text), cut ``longest_first``."""
    if X and isinstance(X[0], tuple):
        first, second = [a for a, _ in X], [b for _, b in X]
        out = tokenizer(first, second, truncation="longest_first", max_length=max_length)
    else:
        out = tokenizer(list(X), truncation=True, max_length=max_length)
    return {key: list(value) for key, value in out.items()}


def _batch(torch: Any, features: dict[str, list[list[int]]], rows: Any, pad_id: int, device: Any) -> dict[str, Any]:
    """The rows' features padded on the right to the batch's longest item."""
    width = max(len(features["input_ids"][i]) for i in rows)
    out = {}
    for key, values in features.items():
        fill = pad_id if key == "input_ids" else 0
        out[key] = torch.tensor([values[i] + [fill] * (width - len(values[i])) for i in rows], device=device)
    return out


def _optimizer(torch: Any, model: Any, est: Settings, total_steps: int) -> tuple[Any, Any]:
    decay = [p for n, p in model.named_parameters() if not n.endswith(NO_DECAY)]
    rest = [p for n, p in model.named_parameters() if n.endswith(NO_DECAY)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": est.weight_decay},
                                   {"params": rest, "weight_decay": 0.0}], lr=est.learning_rate)
    warmup = int(round(est.warmup * total_steps))

    def factor(step: int) -> float:  # linear warmup to the peak, then linear decay to 0 at the last step
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _autocast(torch: Any, device: Any, dtype: Any) -> Any:
    """Mixed precision for the forward pass, or nothing (float32)."""
    import contextlib

    return contextlib.nullcontext() if dtype is None else torch.autocast(device.type, dtype=dtype)


def _epoch_seed(seed: int, epoch: int) -> int:
    import numpy as np

    return int(np.random.SeedSequence([seed, epoch]).generate_state(1, dtype=np.uint64)[0] % (2**63))


def _resume(torch: Any, ctx: FitContext, fingerprint: str, device: Any) -> tuple[int, dict[str, Any] | None, list]:
    """(epochs done, saved states, history) from the fit's checkpoint; (0, None, []) when there is none to use."""
    folder = ctx.checkpoints
    if folder is None or not (folder / PROGRESS).is_file():
        return 0, None, []
    try:
        progress = json.loads((folder / PROGRESS).read_text(encoding="utf-8"))
        if progress.get("fingerprint") != fingerprint:
            return 0, None, []  # another fit's checkpoint (a multi-label model's other label): start over
        state = torch.load(folder / STATE, map_location=device, weights_only=True)
    except (OSError, ValueError, RuntimeError, KeyError, AttributeError) as exc:
        raise BenchError(f"{folder}: the checkpoint cannot be read ({type(exc).__name__}: {exc}); remove the "
                         "folder to train this job from its first epoch") from None
    return int(progress["epoch"]), state, list(progress.get("history", []))


def _save(torch: Any, ctx: FitContext, parts: dict[str, Any], progress: dict[str, Any]) -> None:
    """The states after an epoch, swapped in whole: a kill leaves the previous checkpoint or this one."""
    folder = ctx.checkpoints
    if folder is None:
        return
    tmp = temp_folder(folder.parent, folder.name)
    try:
        write_atomic(tmp / STATE, lambda handle: torch.save({k: v.state_dict() for k, v in parts.items()}, handle))
        write_text(tmp / PROGRESS, json.dumps(progress, indent=1) + "\n")
        swap_folder(tmp, folder)
    except BaseException:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise


def train(est: Settings, X: list[Any], labels: np.ndarray, *, n_labels: int, fingerprint: str) -> Fitted:
    """Fine-tune ``est.source`` on ``X`` and label indices ``labels`` (0..n_labels-1), resuming a checkpoint."""
    import numpy as np

    torch, transformers = _libraries()
    ctx, seed = current_context(), est.seed
    device = _device(torch, est.device)
    amp = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(est.mixed_precision or "")
    if amp is not None and device.type != "cuda":
        raise BenchError(f"transformer model {est.name!r}: mixed_precision {est.mixed_precision} runs on CUDA only, "
                         f"and this job runs on {device.type}; set mixed_precision: null")
    torch.manual_seed(seed)  # the new classification head's initial weights
    tokenizer, model = _load(transformers, est, n_labels)
    model.to(device)
    features = encode(tokenizer, X, est.max_length)
    n = len(labels)
    steps = math.ceil(n / est.batch_size)
    optimizer, scheduler = _optimizer(torch, model, est, steps * est.epochs)
    scaler = torch.amp.GradScaler("cuda", enabled=amp is torch.float16)
    parts = {"model": model, "optimizer": optimizer, "scheduler": scheduler, "scaler": scaler}
    done, state, history = _resume(torch, ctx, fingerprint, device)
    if state is not None:
        for key, part in parts.items():
            part.load_state_dict(state[key])
        ctx.note(f"resuming after epoch {done}/{est.epochs} from its checkpoint")
    where = device_name(torch, device)
    y = torch.tensor(labels, dtype=torch.long, device=device)
    for epoch in range(done, est.epochs):
        start, total = time.perf_counter(), 0.0
        torch.manual_seed(_epoch_seed(seed, epoch))  # dropout
        order = np.random.default_rng([seed, epoch]).permutation(n)
        model.train()
        for first in range(0, n, est.batch_size):
            rows = order[first:first + est.batch_size]
            batch = _batch(torch, features, rows, tokenizer.pad_token_id, device)
            with _autocast(torch, device, amp):
                logits = model(**batch).logits
            loss = torch.nn.functional.cross_entropy(logits.float(), y[torch.as_tensor(rows, device=device)])
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), est.max_grad_norm)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            total += float(loss.detach()) * len(rows)
        history.append({"epoch": epoch + 1, "loss": round(total / n, 6),
                        "seconds": round(time.perf_counter() - start, 3)})
        _save(torch, ctx, parts, {"epoch": epoch + 1, "epochs": est.epochs, "fingerprint": fingerprint,
                                  "history": history})
        ctx.note(f"epoch {epoch + 1}/{est.epochs}: train loss {total / n:.4f} in {history[-1]['seconds']:.1f} s "
                 f"on {where}")
    model.eval()
    ctx.report.update(device=where, mixed_precision=est.mixed_precision, torch=torch.__version__,
                      transformers=transformers.__version__, resumed_after_epoch=done or None, epochs=history)
    return Fitted(model=model, tokenizer=tokenizer, device=device, autocast=amp)


def logits(fitted: Fitted, X: list[Any], *, max_length: int, batch_size: int) -> np.ndarray:
    """(n, n_labels) float64 logits of ``X``, in order."""
    import numpy as np

    torch, _ = _libraries()
    features = encode(fitted.tokenizer, X, max_length)
    out = []
    with torch.inference_mode():
        for first in range(0, len(X), batch_size):
            rows = range(first, min(first + batch_size, len(X)))
            batch = _batch(torch, features, rows, fitted.tokenizer.pad_token_id, fitted.device)
            with _autocast(torch, fitted.device, fitted.autocast):
                out.append(fitted.model(**batch).logits.float().cpu().numpy())
    return np.concatenate(out).astype(np.float64) if out else np.zeros((0, fitted.model.config.num_labels))
