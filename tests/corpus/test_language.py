"""Language detection: codes, the empty-text convention, agreement with py3langid, determinism."""

from __future__ import annotations


from bench.corpus.language import MAX_BYTES, UNDETERMINED, _encode, detect_languages

ENGLISH = ("The harbour authority said on Tuesday that the new ferry line would open in spring, "
           "after two years of delays caused by a dispute over the price of steel.")
FRENCH = ("Le conseil municipal a voté mardi soir la rénovation de la médiathèque, un chantier "
          "attendu depuis dix ans par les habitants du quartier nord.")
GERMAN = ("Der Gemeinderat hat am Dienstag beschlossen, die alte Brücke über den Fluss bis zum "
          "Ende des nächsten Jahres vollständig zu erneuern.")
SPANISH = ("El ayuntamiento aprobó el martes la reforma de la biblioteca municipal, una obra que "
           "los vecinos del barrio esperaban desde hace una década.")


def test_detects_common_news_languages() -> None:
    assert detect_languages([ENGLISH, FRENCH, GERMAN, SPANISH]) == ["en", "fr", "de", "es"]


def test_empty_and_blank_texts_are_undetermined() -> None:
    assert detect_languages(["", "   \n\t", FRENCH]) == [UNDETERMINED, UNDETERMINED, "fr"]
    assert detect_languages([]) == []


def test_text_without_any_model_ngram_is_undetermined_not_the_first_language() -> None:
    """py3langid would answer its first label ('af') for a text with no known n-gram."""
    assert detect_languages(["ok"]) == [UNDETERMINED]


def test_all_capitals_are_read_like_lower_case() -> None:
    assert detect_languages([FRENCH.upper()]) == ["fr"]


def test_result_does_not_depend_on_the_batch(rng) -> None:
    texts = [ENGLISH, FRENCH, GERMAN, SPANISH, "", FRENCH[:40], ENGLISH * 30]
    alone = [detect_languages([t])[0] for t in texts]
    order = rng.permutation(len(texts))
    shuffled = detect_languages([texts[i] for i in order])
    assert [shuffled[list(order).index(i)] for i in range(len(texts))] == alone
    assert detect_languages(texts) == alone


def test_agrees_with_py3langid_classify_on_the_same_bytes() -> None:
    """The batched automaton walk is a re-implementation: it must give the library's labels."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    reference = LanguageIdentifier.from_model_file(MODEL_FILE)
    texts = [ENGLISH, FRENCH, GERMAN, SPANISH, "Dobrý den, jak se máte? Dnes je krásný den.",
             "Это короткая новость о погоде в Москве.", "東京で新しい駅が開業しました。",
             "1234 5678 !!", FRENCH * 20]
    expected = [reference.classify(_encode(t))[0] for t in texts]
    assert detect_languages(texts) == expected


def test_long_texts_are_read_up_to_max_bytes() -> None:
    mixed = FRENCH * (MAX_BYTES // len(FRENCH) + 2) + ENGLISH * 200
    assert detect_languages([mixed]) == ["fr"]
