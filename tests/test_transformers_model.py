"""Fine-tuned transformers (``estimator: transformer``, docs/models.md) end to end through ``bench run``.

No model hub is reachable here, so the tests build a tiny random BERT and its tokenizer
(``tests.tiny_transformer``), save them to a folder and fine-tune from there: the loading,
training, checkpointing and prediction code that a real checkpoint goes through.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the transformers extra is not installed (needs torch)")
pytest.importorskip("transformers", reason="the transformers extra is not installed")

from bench.cli import main  # noqa: E402
from tests.tiny_news import write_stance, write_topic  # noqa: E402
from tests.tiny_transformer import save_tiny_bert, write_clear_topic  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PARAMS = "{model: %s, epochs: %d, learning_rate: 0.01, batch_size: 8, max_length: 32, warmup: 0.1}"


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


def _config(path: Path, dataset: Path, model: Path | str, *, epochs: int = 6, extra: str = "",
            metrics: str = "[accuracy, f1_macro, log_loss]") -> Path:
    path.write_text(f"""name: tfm
datasets: [{dataset}]
features: []
models:
  - {{name: bert, estimator: transformer, params: {PARAMS % (model, epochs)}{extra}}}
seeds: [0]
evaluation: {{metrics: {metrics}, bootstrap: {{samples: 50}}}}
""")
    return path


def _run(config: Path, root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["run", str(config), "--data", str(root / "data"), "--results", str(root / "results"), *args])
    out, err = capsys.readouterr()
    return code, out, err


def _only_job(run: Path) -> dict:
    (path,) = (run / "jobs").glob("*.json")
    return json.loads(path.read_text())


def test_topic_fine_tuning_trains_predicts_scores_and_repeats_bit_for_bit(
        tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    topic = write_clear_topic(tmp_path / "src", n_train=60, n_test=30)
    config = _config(tmp_path / "tfm.yaml", topic, tiny_bert)
    code, out, err = _run(config, tmp_path / "a", capsys)
    assert code == 0, err
    run = Path(out.strip().splitlines()[-1])
    # progress: one line per epoch, naming the device
    epochs = re.findall(r"clear_topic__text__bert__s0: epoch (\d)/6: train loss [\d.]+ in [\d.]+ s on cpu", err)
    assert epochs == [str(e) for e in range(1, 7)], err
    job = _only_job(run)
    (training,) = job["training"]
    assert training["device"] == "cpu" and training["resumed_after_epoch"] is None
    assert [e["epoch"] for e in training["epochs"]] == list(range(1, 7))
    assert training["epochs"][-1]["loss"] < training["epochs"][0]["loss"]  # it learned
    predictions = next((run / "predictions").glob("*.parquet"))
    import pandas as pd

    frame = pd.read_parquet(predictions)
    assert len(frame) == 30 and frame["pred"].nunique() >= 2
    scores = frame[[c for c in frame.columns if c.startswith("score:")]].to_numpy()
    assert scores.shape == (30, 3) and abs(scores.sum(axis=1) - 1).max() < 1e-9  # softmax probabilities
    rows = {r["metric"]: r["value"] for r in json.loads((run / "metrics.json").read_text())["rows"]}
    assert rows["accuracy"] > 0.5  # well above the 1/3 of a constant guess on three balanced classes
    assert not (run / "checkpoints").exists()  # removed once the job is saved

    code, out, err = _run(config, tmp_path / "b", capsys, "--quiet")
    assert code == 0 and err == ""  # --quiet silences the epoch lines too
    again = Path(out.strip().splitlines()[-1])
    assert (again / "metrics.json").read_bytes() == (run / "metrics.json").read_bytes()
    assert (again / "predictions" / predictions.name).read_bytes() == predictions.read_bytes()


def test_stance_pairs_fine_tune_with_cv(tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stance = write_stance(tmp_path / "src", n_train=45, n_test=15)
    config = tmp_path / "stance.yaml"
    config.write_text(f"""name: pairs
datasets: [{stance}]
features: []
models: [{{name: bert, estimator: transformer, params: {PARAMS % (tiny_bert, 2)}}}]
evaluation: {{train: train, cv: {{folds: 3}}, metrics: [accuracy], bootstrap: null}}
""")
    code, out, err = _run(config, tmp_path, capsys, "--quiet")
    assert code == 0, err
    run = Path(out.strip().splitlines()[-1])
    job = _only_job(run)
    assert len(job["training"]) == 3 and all(t["device"] == "cpu" for t in job["training"])  # one fit per fold
    rows = json.loads((run / "metrics.json").read_text())["rows"]
    assert {r["fold"] for r in rows} == {None, 0, 1, 2} and all(0 <= r["value"] <= 1 for r in rows)


def test_pairs_put_the_target_first_and_cut_the_text(tiny_bert: Path) -> None:
    import transformers

    from bench.learn.finetune import encode

    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tiny_bert), local_files_only=True)
    body = " ".join(["market"] * 50)
    features = encode(tokenizer, [("climate policy", body)], max_length=12)
    (ids,), (types,) = features["input_ids"], features["token_type_ids"]
    first = [i for i, t in zip(ids, types, strict=True) if t == 0]
    second = [i for i, t in zip(ids, types, strict=True) if t == 1]
    assert len(ids) == 12  # cut to max_length, from the body: the whole target is kept
    assert tokenizer.decode(first, skip_special_tokens=True) == "climate policy"
    assert tokenizer.convert_ids_to_tokens(first)[0] == "[CLS]"
    assert tokenizer.decode(second, skip_special_tokens=True).split() == ["market"] * (len(second) - 1)


@pytest.mark.parametrize(("params", "message"), [
    ("{model: xlm-roberta-base}", r"params\.revision: hub model 'xlm-roberta-base' needs a pinned "
     r"revision, found no revision; give the 40-character commit hash"),
    ("{model: xlm-roberta-base, revision: main}", r"params\.revision: .*found revision 'main'"),
    ("{model: ./no-such-folder}", r"params\.model: no folder './no-such-folder'"),
    ("{model: MODEL, revision: " + "a" * 40 + "}", r"params\.revision: .* is a local folder, which has no revisions"),
    ("{model: MODEL, mixed_precision: fp16, device: cpu}", r"params\.mixed_precision: fp16 runs on CUDA only"),
    ("{model: MODEL, warmup: 1.5}", r"params\.warmup: expected the share of steps to warm up in \[0, 1\)"),
    ("{model: MODEL, epochs: 0}", r"params\.epochs: expected an integer > 0, found 0"),
    ("{model: MODEL, device: tpu}", r"params\.device: expected auto, cpu, cuda or cuda:N, found 'tpu'"),
])
def test_bad_params_are_one_line_before_anything_trains(tiny_bert: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str], params: str,
                                                        message: str) -> None:
    topic = write_topic(tmp_path / "src")
    config = tmp_path / "bad.yaml"
    config.write_text(f"name: bad\ndatasets: [{topic}]\nfeatures: []\nmodels:\n"
                      f"  - {{name: bert, estimator: transformer, params: {params.replace('MODEL', str(tiny_bert))}}}\n")
    code, out, err = _run(config, tmp_path, capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert re.search(r"^bench: error: .*bad\.yaml:5: models\[0\]\." + message, err), err
    assert not (tmp_path / "results").exists()  # refused before a run folder was made


def test_mixed_precision_on_a_cpu_only_machine_is_one_line(tiny_bert: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is visible: device auto would run fp16 there")
    topic = write_topic(tmp_path / "src")
    config = _config(tmp_path / "amp.yaml", topic, tiny_bert, extra="", metrics="[accuracy]")
    config.write_text(config.read_text().replace("warmup: 0.1}", "warmup: 0.1, mixed_precision: bf16}"))
    code, _, err = _run(config, tmp_path, capsys, "--quiet")
    assert code == 2 and err.count("\n") == 1
    assert "mixed_precision bf16 runs on CUDA only, and this job runs on cpu; set mixed_precision: null" in err


def _spawn(config: Path, root: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "bench", "run", str(config), "--data", str(root / "data"),
                             "--results", str(root / "results")], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_checkpoint(root: Path, proc: subprocess.Popen[str], timeout: float = 120) -> Path:
    """The ``progress.json`` of the job's first checkpoint, as soon as it exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list((root / "results").glob(".*.partial/checkpoints/*/test/progress.json"))
        if found:
            return found[0]
        if proc.poll() is not None:
            raise AssertionError(f"run ended before its first checkpoint: {proc.communicate()}")
        time.sleep(0.01)
    raise AssertionError("no checkpoint in time")


@pytest.mark.slow
def test_a_job_killed_mid_training_resumes_from_its_last_epoch_to_the_same_metrics(
        tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    topic = write_clear_topic(tmp_path / "src", n_train=120, n_test=30)
    epochs = 4
    config = _config(tmp_path / "kill.yaml", topic, tiny_bert, epochs=epochs)
    killed = tmp_path / "killed"
    proc = _spawn(config, killed)
    progress = _wait_for_checkpoint(killed, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    partial = progress.parents[3]
    saved = json.loads(progress.read_text())["epoch"]
    assert 1 <= saved < epochs and not list((partial / "jobs").glob("*.json"))  # killed inside the training

    code = main(["run", "--resume", str(partial), "--data", str(killed / "data")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"resuming after epoch {saved}/{epochs} from its checkpoint" in err
    resumed = Path(out.strip().splitlines()[-1])
    (training,) = _only_job(resumed)["training"]
    assert training["resumed_after_epoch"] == saved and len(training["epochs"]) == epochs
    assert not (resumed / "checkpoints").exists()

    code, out, _ = _run(config, tmp_path / "fresh", capsys, "--quiet")
    assert code == 0
    fresh = Path(out.strip().splitlines()[-1])
    assert (resumed / "metrics.json").read_bytes() == (fresh / "metrics.json").read_bytes()
    losses = [e["loss"] for e in _only_job(fresh)["training"][0]["epochs"]]
    assert [e["loss"] for e in training["epochs"]] == losses  # the resumed epochs trained exactly as the fresh ones


def test_a_checkpoint_of_another_fit_is_not_resumed(tiny_bert: Path, tmp_path: Path) -> None:
    import numpy as np

    from bench.learn.fitcontext import FitContext, fitting
    from bench.learn.transformer import FineTunedTransformer

    X = ["market shares profit", "match goal team", "software chip phone", "bank trade merger"] * 3
    y = np.array([0, 1, 2, 0] * 3)
    model = FineTunedTransformer(model=str(tiny_bert), epochs=1, batch_size=4, max_length=16, random_state=0)
    with fitting(FitContext(checkpoints=tmp_path / "ck")) as first:
        model.fit(X, y)
    with fitting(FitContext(checkpoints=tmp_path / "ck")) as second:
        model.fit(X, y[::-1].copy())  # other labels: the saved epoch is not this fit's
    with fitting(FitContext(checkpoints=tmp_path / "ck")) as third:
        model.fit(X, y[::-1].copy())  # the same fit again: its one epoch is done
    assert first.report["resumed_after_epoch"] is None and second.report["resumed_after_epoch"] is None
    assert third.report["resumed_after_epoch"] == 1
    assert third.report["epochs"] == second.report["epochs"]


def test_multi_label_trains_one_model_per_label(tiny_bert: Path) -> None:
    import numpy as np

    from bench.config.spec import ModelSpec
    from bench.learn.models import build_estimator, predict_with_scores

    X = ["market shares profit", "match goal team", "software chip phone", "bank trade merger"] * 3
    Y = np.zeros((12, 3), dtype=np.int64)
    Y[np.arange(12), [0, 1, 2, 0] * 3] = 1
    Y[::4, 2] = 1  # some rows carry two labels
    spec = ModelSpec(name="m", estimator="transformer",
                     params={"model": str(tiny_bert), "epochs": 1, "batch_size": 4, "max_length": 16})
    estimator = build_estimator(spec, seed=0, multilabel=True).fit(X, Y)
    pred, scores = predict_with_scores(estimator, X, n_labels=3)
    assert pred.shape == Y.shape and set(np.unique(pred)) <= {0, 1}
    assert scores is not None and scores.shape == Y.shape and ((scores >= 0) & (scores <= 1)).all()
