"""``bench report``: the page of three real runs on three tiny datasets, its plots, links and errors."""

from __future__ import annotations

import base64
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.compare import CompareOptions
from tests.report_runs import ReportRuns, build_report_runs

SAMPLES = ["--samples", "500", "--slice-samples", "200"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> ReportRuns:
    return build_report_runs(tmp_path_factory.getbasetemp() / "report_runs")


@pytest.fixture(scope="module")
def rendered(runs: ReportRuns, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The report of the three runs, and the warnings raised while it was made."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["report", *map(str, runs.runs), "-o", str(out), *SAMPLES]) == 0
    return out, [str(w.message) for w in caught]


@pytest.fixture(scope="module")
def report(rendered: tuple[Path, list[str]]) -> Path:
    return rendered[0]


def _imgs(page: str) -> dict[str, str]:
    """``data-plot`` name -> base64 PNG of every embedded figure."""
    return {name: data for data, name in re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="[^"]*" '
                                                    r'data-plot="([^"]+)"', page)}


def test_every_plot_is_embedded_and_written_beside_the_report(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    imgs = _imgs(page)
    folder = report.with_name("report_plots")
    files = {p.stem: p for p in folder.glob("*.png")}
    expected = {f"{kind}-{ds}" for kind in ("forest", "class_f1", "confusion", "time")
                for ds in ("actu_fr", "tiny_stance", "tiny_topic")} | {"critical_difference"}
    assert set(imgs) == expected
    assert set(files) == expected
    for name, data in imgs.items():
        png = base64.b64decode(data)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert png == files[name].read_bytes()


def test_page_has_metadata_comparison_table_and_sections(report: Path, runs: ReportRuns) -> None:
    page = report.read_text(encoding="utf-8")
    assert page.count('<table class="newsbench-compare">') == 1
    for section in ("runs", "datasets", "comparison", "plots", "errors", "slices", "items"):
        assert f'<section id="{section}">' in page
    for run in runs.runs:
        assert run.name in page  # run ids in the metadata table
    assert "Friedman test over 3 datasets" in page  # the comparison notes, with the ranking over 3 datasets
    assert "dataset card" in page and "économie" in page
    # the three runs' configs are shown, and the one with bigrams says so
    assert "ngram_range" in page


def test_item_links_resolve_to_item_anchors_with_text(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    links = set(re.findall(r'href="#(item-[^"]+)"', page))
    anchors = set(re.findall(r'<div class="item" id="(item-[^"]+)"', page))
    assert links, "the error analysis links no item"
    assert links == anchors
    # every error-analysis block (frequent confusions) shows a text snippet next to the id
    assert page.count("<h4>Most frequent confusions</h4>") == 3
    assert "(text not available)" not in page


def test_page_fetches_nothing(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    urls = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', page)
    assert urls
    assert not [u for u in urls if re.match(r"(?i)^(https?:|//|ftp:)", u)]
    assert "<script" not in page.lower()
    assert "@import" not in page and "url(" not in page


def test_slices_give_numbers_for_large_slices_and_count_small_ones(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    slices = page[page.index('<section id="slices">'):page.index('<section id="items">')]
    # actu_fr has 60 test items, 30 per outlet: numbers; tiny_stance has 15 per target: counted, not shown
    assert re.search(r"<td>Le Monde</td><td class=\"num\">30</td><td class=\"num\">0\.\d{3} \[0\.\d{3}, ", slices)
    assert "climate policy" not in slices and "too small" not in slices
    assert re.search(r"<p class=\"small\">\d+ target slices with fewer than \d+ items not shown\.</p>", slices)
    assert "by length" in slices


def test_long_sections_fold_and_tables_scroll_inside_their_box(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    for section, following in (("errors", "slices"), ("slices", "items")):
        part = page[page.index(f'<section id="{section}">'):page.index(f'<section id="{following}">')]
        assert "<details><summary><h3>" in part  # closed: one line per dataset until opened
    assert "<details><summary>Every item named above" in page
    assert "details table{display:block;overflow-x:auto;max-width:100%}" in page
    assert '<nav><ul><li><a href="#runs">' in page


def test_report_is_deterministic(runs: ReportRuns, report: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.html"
    assert main(["report", *map(str, runs.runs), "-o", str(again), *SAMPLES]) == 0
    assert again.read_bytes() == report.read_bytes().replace(b"report_plots/", b"again_plots/")


def test_accented_labels_draw_without_missing_glyphs(runs: ReportRuns) -> None:
    import dataclasses

    from bench.report.collect import ReportOptions, collect
    from bench.report.plots import all_plots
    from bench.results.store import RunDir

    data = collect([RunDir.open(runs.runs[0])], ReportOptions(comparison=CompareOptions(samples=100),
                                                                   slice_samples=50))
    french = dataclasses.replace(data, datasets=tuple(d for d in data.datasets if d.name == "actu_fr"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plots = all_plots(french, workers=1)  # in this process, so that its warnings are seen
    assert [p.name for p in plots["actu_fr"]] == ["forest-actu_fr", "class_f1-actu_fr", "confusion-actu_fr",
                                                 "time-actu_fr"]
    assert not [w for w in caught if "missing from" in str(w.message) or "layout" in str(w.message)]


def test_figures_are_the_same_drawn_in_workers_or_here(runs: ReportRuns) -> None:
    import dataclasses

    from bench.report.collect import ReportOptions, collect
    from bench.report.plots import all_plots
    from bench.results.store import RunDir

    data = collect([RunDir.open(runs.runs[0])], ReportOptions(comparison=CompareOptions(samples=100),
                                                                   slice_samples=50))
    one = dataclasses.replace(data, datasets=data.datasets[:1])
    assert all_plots(one, workers=2) == all_plots(one, workers=1)


def test_rewriting_replaces_the_plots_folder(runs: ReportRuns, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    folder = tmp_path / "r_plots"
    folder.mkdir()
    (folder / "stale.png").write_bytes(b"old")
    assert main(["report", str(runs.runs[0]), "-o", str(out), *SAMPLES]) == 0
    assert not (folder / "stale.png").exists()
    assert (folder / "forest-actu_fr.png").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left over


def _run_whose_dataset_moved(runs: ReportRuns, tmp_path: Path) -> Path:
    """A copy of the first run whose manifest points at a dataset folder that is not there."""
    run = Path(shutil.copytree(runs.runs[0], tmp_path / "results" / runs.runs[0].name))
    manifest = (run / "manifest.json").read_text(encoding="utf-8")
    (run / "manifest.json").write_text(manifest.replace(str(runs.data), str(tmp_path / "gone")), encoding="utf-8")
    return run


def test_missing_dataset_is_a_warning_not_a_failure(runs: ReportRuns, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    run = _run_whose_dataset_moved(runs, tmp_path)
    out = tmp_path / "r.html"
    code = main(["report", str(run), "-o", str(out), "--data", str(tmp_path / "nowhere"), *SAMPLES])
    err = capsys.readouterr().err
    assert code == 0
    assert re.search(r"bench: warning: actu_fr: no item texts, so no snippets and no slices: .*built dataset not "
                     r"found", err)
    page = out.read_text(encoding="utf-8")
    assert '<div class="warning">' in page and "(text not available)" in page


def test_data_option_finds_a_moved_dataset(runs: ReportRuns, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    run = _run_whose_dataset_moved(runs, tmp_path)
    out = tmp_path / "r.html"
    assert main(["report", str(run), "-o", str(out), "--data", str(runs.data), *SAMPLES]) == 0
    assert "warning" not in capsys.readouterr().err
    assert "(text not available)" not in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(("args", "message"), [
    (["report", "nowhere", "-o", "r.html"], r"nowhere: no such run folder or run id"),
    (["report", "RUN", "-o", "r.pdf"], r"r\.pdf: -o: the report is an HTML file"),
    (["report", "RUN", "-o", "r.html", "--metric", "f1_macr"], r"unknown metric 'f1_macr'; did you mean"),
])
def test_user_errors_are_one_line_exit_2(args: list[str], message: str, runs: ReportRuns, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(runs.runs[0]) if a == "RUN" else str(tmp_path / a) if a.startswith("r.") else a for a in args]
    assert main([*args, "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert re.search(message, err)
    assert not list(tmp_path.glob("r*"))


def test_learning_curve_for_runs_at_two_training_sizes(tmp_path: Path) -> None:
    """The same test items, trained on half and on all of the 60 training items
    (``evaluation.train_subset``): one curve per system."""
    import json

    from tests.report_runs import _run, write_french

    spec = write_french(tmp_path / "full", n_train=60, n_test=30)
    runs = []
    for name, subset in (("half", "train_subset: {size: 0.5, seed: 1}, "), ("full", "")):
        config = tmp_path / f"{name}.yaml"
        config.write_text(f"""name: {name}
datasets: [{spec}]
features: [{{name: word, kind: tfidf}}]
models: [{{name: nb, estimator: multinomial_nb}}]
evaluation: {{{subset}metrics: [accuracy], bootstrap: {{samples: 100}}}}
""", encoding="utf-8")
        runs.append(_run(config, tmp_path / "data", tmp_path / "results"))
    jobs = [json.loads(next((run / "jobs").glob("*.json")).read_text()) for run in runs]
    assert [job["n_train"] for job in jobs] == [30, 60] and jobs[0]["n_test"] == jobs[1]["n_test"] == 30
    out = tmp_path / "lc.html"
    assert main(["report", *map(str, runs), "-o", str(out), *SAMPLES]) == 0
    assert 'data-plot="learning_curve-actu_fr"' in out.read_text(encoding="utf-8")
    assert (tmp_path / "lc_plots" / "learning_curve-actu_fr.png").is_file()


def test_error_analysis_counts_confusions_and_shared_errors(runs: ReportRuns) -> None:
    from bench.report.collect import ReportOptions, collect
    from bench.report.errors import analyse, label_strings
    from bench.results.store import RunDir

    data = collect([RunDir.open(p) for p in runs.runs], ReportOptions(comparison=CompareOptions(samples=100)))
    ds = next(d for d in data.datasets if d.name == "tiny_stance")
    analysis = analyse(ds, top=50)
    considered = [s for s in ds.systems if not s.is_majority]
    assert len(analysis.systems) == len(considered) == 6
    gold = label_strings(considered[0].outputs.gold, ds.labels, False)
    votes = [label_strings(s.outputs.vote(), ds.labels, False) for s in considered]
    total = sum(int((v != gold).sum()) for v in votes)
    assert sum(c.count for c in analysis.confusions) == total
    all_wrong = np.all([v != gold for v in votes], axis=0)
    assert analysis.n_shared == int(all_wrong.sum())
    assert {e.id for e in analysis.shared} == set(considered[0].outputs.ids[all_wrong])
    for error in analysis.confident:
        assert error.gold != error.pred


def test_report_fonts_draw_accents_greek_and_cyrillic() -> None:
    from bench.report.figure import new_figure, style, to_png

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with style():
            fig = new_figure(3, 2)
            fig.subplots().set_title("économie, santé, Ελλάδα, Москва, İstanbul, Łódź")
            png = to_png(fig)
    assert png.startswith(b"\x89PNG")
    assert not [w for w in caught if "missing from" in str(w.message)]


def test_imported_predictions_join_the_report_without_timings(runs: ReportRuns, tmp_path: Path) -> None:
    """A `bench import` run has no timings: it is in the table and forest plot, not in the time plot."""
    import pandas as pd

    frame = pd.read_parquet(runs.runs[0] / "predictions" / "tiny_stance__word__logreg__s0.parquet")
    outside = pd.DataFrame({"id": frame["id"], "label": frame["pred"]})
    outside.loc[::4, "label"] = "NONE"
    outside.to_csv(tmp_path / "outside.csv", index=False)
    assert main(["import", str(tmp_path / "outside.csv"), "--dataset", "tiny_stance", "--data", str(runs.data),
                 "--name", "outside", "--results", str(tmp_path / "results")]) == 0
    (imported,) = [p for p in (tmp_path / "results").iterdir() if not p.name.startswith(".")]
    out = tmp_path / "r.html"
    assert main(["report", str(runs.runs[0]), str(imported), "-o", str(out), *SAMPLES]) == 0
    page = out.read_text(encoding="utf-8")
    assert "outside" in page and 'data-plot="forest-tiny_stance"' in page
    assert "1 system without timings (e.g. imported predictions) is left out." in page


HOSTILE = ("<script>alert(1)</script>", '"onmouseover=alert(1) x="', "{{ 7*7 }}")


def test_hostile_names_and_texts_come_out_escaped(runs: ReportRuns) -> None:
    """Run names, warnings, cards, plot titles and item texts are text: none of them becomes markup."""
    import dataclasses

    from bench.report.collect import ReportOptions, collect
    from bench.report.errors import analyse
    from bench.report.figure import Plot
    from bench.report.html import render_page
    from bench.results.store import RunDir

    data = collect([RunDir.open(p) for p in runs.runs[:2]], ReportOptions(comparison=CompareOptions(samples=100),
                                                                   slice_samples=50))
    text = " ".join(HOSTILE)
    datasets = tuple(dataclasses.replace(ds, card=text, items=ds.items.assign(text=text)) for ds in data.datasets)
    hostile = dataclasses.replace(data, run_labels=HOSTILE[:2], datasets=datasets, warnings=HOSTILE,
                                  comparison=dataclasses.replace(data.comparison, runs=HOSTILE[:2]))
    plot = Plot(name="p", title=HOSTILE[1], caption=HOSTILE[2], png=b"\x89PNG")
    page = render_page(hostile, {HOSTILE[0]: [plot]}, {ds.name: analyse(ds) for ds in datasets}, {}, HOSTILE[1])
    assert "<script" not in page.lower() and '"onmouseover' not in page
    assert "<title>newsbench report: &lt;script&gt;alert(1)&lt;/script&gt;, &#34;onmouseover=" in page
    assert ('<h3>&lt;script&gt;alert(1)&lt;/script&gt;</h3> <span class="muted">(1 figure)</span></summary>'
            '<figure id="fig-p">') in page.replace(">\n<", "><")
    assert 'alt="&#34;onmouseover=alert(1) x=&#34;" data-plot="p"' in page
    assert '<a href="&#34;onmouseover=alert(1) x=&#34;/p.png">PNG</a>' in page
    assert "<li>{{ 7*7 }}</li>" in page and "<b>&lt;script&gt;alert(1)&lt;/script&gt;</b> (higher" not in page
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &#34;onmouseover=alert(1) x=&#34; {{ 7*7 }}"
    assert f"<pre>{escaped}</pre>" in page
    cards = re.findall(r'<div class="item" id="item-[^"]+">.*?<p>([^<]*)</p>', page)
    assert cards and set(cards) == {escaped}


def test_templates_escape_by_default_and_fail_on_undefined_names() -> None:
    from jinja2 import UndefinedError

    from bench.core.templating import environment, render

    assert environment("bench.report").from_string("<p>{{ x }}</p>").render(x="<b>&") == "<p>&lt;b&gt;&amp;</p>"
    with pytest.raises(UndefinedError, match="'data' is undefined"):
        render("bench.report", "page.html.j2")
    with pytest.raises(UndefinedError, match="has no attribute 'nope'"):
        environment("bench.report").from_string("{{ run.nope }}").render(run=object())
