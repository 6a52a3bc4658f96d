"""What fine-tuning a transformer through newsbench costs on the CPU: a tiny random BERT on BBC News.

No model hub is reachable where this was written, so the only transformer that can be
fine-tuned is one built here: a BERT of 2 layers, width 64, 2 heads, initialised at random
(seed 0), with a WordPiece vocabulary of 8,000 learned from the BBC training texts. It shows
the cost of the ``transformer`` path (tokenising, training epochs, checkpoints, predicting)
on real news lengths, **not** a pretrained model's accuracy: a published-quality number
needs a pretrained checkpoint and, at this size of data, a GPU (docs/models.md).

    python benchmarks/transformer_cost.py [--data data] [--results results] [--epochs 3] [--max-length 256]

Builds BBC News (configs/datasets/bbc.yaml; needs NEWSBENCH_DATA), the model folder under
``<results>/tiny-bert-bbc``, then times one ``bench run`` of it (seed 0) as a fresh process and
prints the run folder, the wall time and the test accuracy and macro-F1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-length", type=int, default=256)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    bench = [sys.executable, "-m", "bench"]
    subprocess.run([*bench, "data", "build", str(REPO / "configs/datasets/bbc.yaml"), "--data", str(args.data)],
                   check=True, env=env)
    from datasets import load_from_disk

    texts = list(load_from_disk(str(args.data / "bbc"))["train"]["text"])
    sys.path.insert(0, str(REPO))
    from tests.tiny_transformer import save_tiny_bert  # the tests' builder, wider: 64 units, 8,000 words

    folder = save_tiny_bert(args.results / "tiny-bert-bbc", texts=texts, vocab_size=8000, hidden_size=64,
                            intermediate_size=256, max_positions=512)
    config = args.results / "tiny-bert-bbc.yaml"
    config.write_text(f"""name: bbc-tiny-bert
datasets: [{REPO / "configs/datasets/bbc.yaml"}]
features: []
models:
  - name: tiny-bert
    estimator: transformer
    params: {{model: {folder.resolve()}, max_length: {args.max_length}, epochs: {args.epochs}, learning_rate: 1.0e-3,
             batch_size: 16, warmup: 0.1, weight_decay: 0.01}}
seeds: [0]
evaluation:
  train: train
  test: test
  metrics: [accuracy, f1_macro]
  bootstrap: {{samples: 1000, confidence: 0.95}}
""")
    start = time.perf_counter()
    done = subprocess.run([*bench, "run", str(config), "--data", str(args.data), "--results", str(args.results)],
                          check=True, env=env, stdout=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    run = Path(done.stdout.strip().splitlines()[-1])
    rows = json.loads((run / "metrics.json").read_text())["rows"]
    (job,) = [json.loads(p.read_text()) for p in (run / "jobs").glob("*.json")]
    print(f"run {run}")
    print(f"wall {wall:.1f} s (bench run, a fresh process); fit {job['fit_seconds']:.1f} s, "
          f"predict {job['predict_seconds']:.1f} s, train rows {job['n_train']}, test rows {job['n_test']}")
    print("epochs", job["training"][0]["epochs"], "device", job["training"][0]["device"])
    for row in rows:
        if row["fold"] is None and row["target"] is None:
            print(f"{row['metric']} {row['value']:.4f} [{row['ci_low']:.4f}, {row['ci_high']:.4f}]")


if __name__ == "__main__":
    main()
