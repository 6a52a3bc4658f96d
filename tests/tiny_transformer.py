"""A tiny randomly initialised BERT and its WordPiece tokenizer, saved to a folder like a real checkpoint.

No model hub is reachable from the tests, so they fine-tune this instead: two layers of
width 32, a vocabulary learned from the tiny news datasets' words. It is saved without a
classification head (as base checkpoints such as xlm-roberta-base are), so that loading it
for classification initialises a new head, as a real fine-tuning run does.
"""

from __future__ import annotations

from pathlib import Path

from tests.tiny_news import SHARED, STANCE_WORDS, TOPIC_WORDS

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def corpus() -> list[str]:
    """Sentences with every word of the tiny datasets, their targets and row numbers."""
    words = [w for group in (TOPIC_WORDS, STANCE_WORDS) for ws in group.values() for w in ws.split()]
    return [" ".join(words), " ".join(SHARED), "climate policy nuclear energy",
            " ".join(str(i) for i in range(100))]


def save_tiny_bert(folder: Path, *, seed: int = 0, texts: list[str] | None = None, vocab_size: int = 500,
                   hidden_size: int = 32, intermediate_size: int = 37, max_positions: int = 64) -> Path:
    """Write the tokenizer and a random ``BertModel`` (config.json, model.safetensors) into ``folder``.

    The vocabulary is learned from ``texts`` (default: the tiny datasets' words); the sizes default
    to the tests' model (benchmarks/transformer_cost.py builds a wider one on BBC News).
    """
    import torch
    import transformers
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(corpus() if texts is None else texts,
                            trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIAL))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.decoder = decoders.WordPiece()
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]", model_input_names=["input_ids", "token_type_ids", "attention_mask"])
    config = transformers.BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=hidden_size, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=intermediate_size,
                                     max_position_embeddings=max_positions)
    transformers.logging.disable_progress_bar()
    torch.manual_seed(seed)
    folder.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(folder)
    transformers.BertModel(config).save_pretrained(folder)
    return folder


def write_clear_topic(folder: Path, *, n_train: int = 60, n_test: int = 30) -> Path:
    """A 3-class topic dataset with clearer texts than ``tiny_news.write_topic`` (4 class words, 6 shared).

    The tiny random BERT learns from a few dozen rows only what is this plain; the bag-of-words
    datasets of ``tiny_news`` leave it near a constant guess.
    """
    import numpy as np

    from tests.tiny_news import write_csv_dataset

    rng = np.random.default_rng(3)
    labels = list(TOPIC_WORDS)

    def rows(n: int, start: int) -> list[dict]:
        out = []
        for i in range(n):
            label = labels[i % 3]
            words = [*rng.choice(TOPIC_WORDS[label].split(), 4), *rng.choice(SHARED, 6)]
            rng.shuffle(words)
            out.append({"id": f"c{start + i}", "text": " ".join(str(w) for w in words), "label": label})
        return out

    return write_csv_dataset(folder, "clear_topic", {"train": rows(n_train, 0), "test": rows(n_test, 1000)},
                             "task: topic\nlanguage: en\ncolumns: {id: id, text: text, label: label}\n"
                             "labels: [business, sport, tech]\n")
