"""Unknown names suggest what a common alias stands for (aliases never resolve a config)."""

from __future__ import annotations

import pytest

from bench.config.spec import ModelSpec
from bench.core.errors import UnknownNameError
from bench.core.registry import Registry
from bench.learn.features import FEATURES
from bench.learn.models import ESTIMATORS, ModelParamError, check_model_params
from bench.metrics.catalog import METRICS


@pytest.mark.parametrize(("registry", "alias", "meant"), [
    (ESTIMATORS, "logreg", "'logistic_regression'"),
    (ESTIMATORS, "svm", "'linear_svc'"),
    (ESTIMATORS, "nb", "'complement_nb' or 'multinomial_nb'"),
    (METRICS, "f1", "'f1_macro'"),
    (METRICS, "FNC1", "'fnc1_score'"),
    (FEATURES, "bow", "'count' or 'tfidf'"),
])
def test_an_alias_is_suggested_not_resolved(registry: Registry, alias: str, meant: str) -> None:
    assert alias not in registry
    with pytest.raises(UnknownNameError, match=f"did you mean {meant}"):
        registry.get(alias)


def test_close_spellings_still_come_after_the_alias() -> None:
    assert ESTIMATORS.suggest("logistic_regresion") == ["logistic_regression"]
    assert Registry("thing", {"x": ["absent"]}).suggest("x") == []


def test_a_config_model_names_the_alias_meaning() -> None:
    with pytest.raises(ModelParamError, match="unknown estimator 'logreg'; did you mean 'logistic_regression'"):
        check_model_params(ModelSpec(name="m", estimator="logreg"))
