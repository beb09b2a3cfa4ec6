"""A study's results as ``report.md`` and a self-contained ``report.html`` (plots inlined),
written for a clinical reader.

- Methods: the design, how intervals are made (a patient bootstrap of the out-of-fold
  predictions pooled per seed, ``pooled``), the test against the base (the corrected
  resampled t-test, ``stats``) with Holm's correction over every comparison of the study,
  and a legend of the metrics' names.
- What the design can detect: for each factor the smallest difference in quadratic-weighted
  kappa found at 80% power (alpha 0.05) given the observed spread of the fold differences.
  When no factor could detect a difference below ``DETECTABLE`` the report says so in one
  sentence and shows no test results.
- A forest plot of every condition's difference in QWK from the base, with its paired
  patient-bootstrap interval.
- For every factor: a table (each metric's seed-mean pooled estimate with its interval, and
  the per-run mean ± SD beside it; the difference from the base and the test), a bar chart
  and the mean validation learning curves.
- The condition with the best pooled QWK: its confusion matrix as a table and a heatmap,
  per-grade recall with intervals. Then failed runs and the data summary.

The figures are drawn by :mod:`.figures`, the HTML page by :mod:`.html_page`.
"""
from __future__ import annotations

import math
import os

import numpy as np

from .. import grades
from ..atomic import atomic_path, write_json
from ..splits import PROPOSAL, fold_name
from . import figures, html_page
from .grid import Study, slug
from .html_page import BESIDE
from .pooled import paired_difference, pool_folds, seed_mean_intervals
from .results import METRICS, ConditionResult, collect, compare
from .stats import HOLM_NAME, TEST_NAME, holm, minimum_detectable_difference

NAMES = {"qwk": "QWK", "accuracy": "Accuracy", "balanced_accuracy": "Balanced accuracy",
         "macro_f1": "Macro F1", "mae": "MAE (grades)", "auc_djd": "AUC DJD"}
LEGEND = {"QWK": "quadratic-weighted kappa: agreement with the reference grade, 1 perfect, "
                 "0 chance, large disagreements weigh more (range -1 to 1)",
          "Accuracy": "share of knees given exactly the reference grade",
          "Balanced accuracy": "mean over grades of the share of that grade's knees recognised "
                               "(recall), so rare grades count as much as common ones",
          "Macro F1": "mean over grades of the F1 score (harmonic mean of precision and recall)",
          "MAE (grades)": "mean absolute error in grades (0 perfect, at most 4)",
          "AUC DJD": "area under the ROC curve for DJD (grade >= mild) against no DJD "
                     "(0.5 chance, 1 perfect)"}
DETECTABLE = 0.5  # a ΔQWK this large is e.g. moderate (0.4) against almost perfect (0.9) agreement
ALPHA, POWER = 0.05, 0.8


def _pooled(study: Study, result: ConditionResult) -> dict:
    """seed -> the pooled out-of-fold predictions of the seeds whose every fold finished."""
    out = {}
    for seed in study.seeds:
        pooled = pool_folds([result.runs.get(fold_name(k, seed), {})
                             for k in range(1, study.folds + 1)])
        if pooled is not None:
            out[seed] = pooled
    return out


def _interval(estimate: float, low: float, high: float) -> str:
    if not np.isfinite(estimate):
        return "n/a"
    return f"{estimate:.3f} [{low:.2f}, {high:.2f}]"


def _cell(summary: dict | None, runs: np.ndarray, metric: str) -> str:
    """``pooled estimate [95% CI]; runs mean ± SD``."""
    runs = runs[np.isfinite(runs)]
    spread = (f"runs {runs.mean():.2f} ± {runs.std(ddof=1):.2f}" if len(runs) > 1 else
              f"run {runs[0]:.2f}" if len(runs) else "no finished run")
    pooled = _interval(**summary[metric]) if summary else "n/a"
    return f"{pooled}; {spread}"


def _analyse(study: Study, results: list[ConditionResult]) -> dict:
    """Pooled intervals, paired differences, tests, Holm and detectable differences."""
    base = results[0]
    pooled = {r.label: _pooled(study, r) for r in results}
    summaries = {label: seed_mean_intervals(list(p.values()), study.bootstrap_rounds) if p else None
                 for label, p in pooled.items()}
    comparisons = {}
    for r in results[1:]:
        c = compare(base, r)
        seeds = [s for s in study.seeds if s in pooled[base.label] and s in pooled[r.label]]
        c["delta"] = paired_difference([pooled[base.label][s] for s in seeds],
                                       [pooled[r.label][s] for s in seeds],
                                       study.bootstrap_rounds) if seeds else None
        comparisons[r.label] = c
    adjusted = holm([c["p_value"] for c in comparisons.values()])
    for c, p in zip(comparisons.values(), adjusted):
        c["p_holm"] = float(p)
    detectable = {}
    for factor in study.factors:
        rows = [comparisons[r.label] for r in results if r.factor == factor.name]
        spreads = [c["sd"] ** 2 for c in rows if np.isfinite(c["sd"])]
        runs = min((c["pairs"] for c in rows), default=0)
        sd = math.sqrt(np.mean(spreads)) if spreads else math.nan
        detectable[factor.name] = {"sd": sd, "runs": runs, "mdd": minimum_detectable_difference(
            sd, runs, base.test_to_train(), ALPHA, POWER)}
    too_small = not any(np.isfinite(d["mdd"]) and d["mdd"] < DETECTABLE
                        for d in detectable.values())
    return {"summaries": summaries, "comparisons": comparisons, "detectable": detectable,
            "too_small": too_small and bool(study.factors)}


def _too_small_sentence(study: Study, analysis: dict) -> str:
    mdds = [d["mdd"] for d in analysis["detectable"].values() if np.isfinite(d["mdd"])]
    runs = len(study.seeds) * study.folds
    reach = (f"the smallest difference in QWK its corrected t-test could detect at 80% power is "
             f"{_mdd_text(min(mdds), 2)} or more" if mdds else
             "its corrected t-test has no spread to work with")
    return (f"**This design is too small to find any difference between conditions:** with "
            f"{study.folds} folds x {_count(len(study.seeds), 'seed')} ({runs} paired runs, "
            f"{_count(runs - 1, 'degree')} of freedom) {reach}, above {DETECTABLE} (the step from "
            f"moderate to almost perfect agreement), so no test results are shown and the "
            f"intervals below describe these data only.")


def _mdd_text(mdd: float, digits: int = 3) -> str:
    """A detectable ΔQWK as text; one above 2, the widest gap two kappas can have, says so."""
    text = f"{mdd:.{digits}f}"
    return text + ", more than the widest gap two QWKs can have (2)" if mdd > 2 else text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _methods(study: Study, analysis: dict) -> list[str]:
    comparisons = sum(np.isfinite(c["p_value"]) for c in analysis["comparisons"].values())
    lines = [
        f"**Design.** {study.folds} stratified patient-grouped folds x seeds {list(study.seeds)}"
        + (", plus the proposal's split (last 20 patients) for reference."
           if study.proposal_split else "."),
        "",
        f"**Intervals.** For each condition and seed the test predictions of the {study.folds} "
        f"fold models are pooled (every knee predicted once, by the model that did not see its "
        f"patient); "
        f"each metric is computed on the pooled predictions and averaged over seeds. Its 95% "
        f"interval is a percentile patient bootstrap ({study.bootstrap_rounds} rounds; patients "
        f"drawn with replacement with both knees, the same draw for every seed), so it stays "
        f"within the metric's range. Beside it: the mean ± SD of the metric over the single "
        f"fold runs. The proposal's split has its own patient bootstrap.",
        "",
        f"**Comparisons.** Each condition against the base: the {TEST_NAME}, over the differences "
        f"in test QWK on the same (fold, seed) splits; the correction accounts for the overlap of "
        f"training sets between folds, which makes a plain paired test anti-conservative. "
        f"p-values are adjusted by {HOLM_NAME} over all {comparisons} comparisons of the study; a "
        f"condition differs from the base when its Holm-adjusted p < {ALPHA}. ΔQWK and its "
        f"interval come from the pooled predictions with a paired patient bootstrap (test-patient "
        f"uncertainty only; the test adds the training-set variability).",
        "",
        "**Legend.**", ""] + [f"- {name}: {text}" for name, text in LEGEND.items()]
    return lines + [""]


def write_report(study: Study, out: str) -> tuple[str, str]:
    """Write ``OUT/report.md`` and ``OUT/report.html``; returns their paths."""
    results = collect(study, out)
    analysis = _analyse(study, results)
    summaries, comparisons = analysis["summaries"], analysis["comparisons"]
    figure_dir = os.path.join(out, "figures")
    os.makedirs(figure_dir, exist_ok=True)
    md = [f"# {study.name}: results", ""] + _methods(study, analysis)
    images = []
    if analysis["too_small"]:
        md += [_too_small_sentence(study, analysis), ""]
    if study.factors:
        forest = os.path.join(figure_dir, "forest.png")
        figures.forest_figure(results, analysis, forest)
        images.append(forest)
        md += ["## Difference in QWK from the base", "",
               "![ΔQWK vs base with 95% intervals](figures/forest.png)", ""]
    testing = not analysis["too_small"]
    for factor in ["base"] + [f.name for f in study.factors]:
        if factor == "base" and study.factors:
            continue
        rows = [r for r in results if r.factor in ("base", factor)]
        heads = ["condition", "runs"] + [NAMES[m] for m in METRICS] + ["ΔQWK vs base [95% CI]"]
        heads += ["p (corrected t)", "p (Holm)", "verdict"] if testing else []
        heads += ["proposal split QWK [95% CI]"]
        md += [f"## {factor}", "", "| " + " | ".join(heads) + " |", "|" + " --- |" * len(heads)]
        for r in rows:
            cells = [r.label, str(int(np.isfinite(r.values("qwk")).sum()))]
            cells += [_cell(summaries[r.label], r.values(m), m) for m in METRICS]
            cells += _comparison_cells(comparisons.get(r.label), testing)
            cells.append(_proposal_cell(r.runs.get(PROPOSAL, {})))
            md.append("| " + " | ".join(cells) + " |")
        if factor in analysis["detectable"]:
            d = analysis["detectable"][factor]
            reach = (f"{_mdd_text(d['mdd'])} (SD of the fold differences {d['sd']:.3f} over "
                     f"{d['runs']} paired runs)." if np.isfinite(d["mdd"]) else
                     "not estimable (fewer than 2 paired runs or no spread).")
            md += ["", f"Smallest ΔQWK this design detects at 80% power (α {ALPHA}): {reach}"]
        bars, curves = (os.path.join(figure_dir, f"{slug(factor)}-{kind}.png")
                        for kind in ("bars", "curves"))
        figures.bars_figure(rows, summaries, factor, bars)
        figures.curves_figure(rows, factor, curves)
        images += [bars, curves]
        md += ["", f"![{factor}: test QWK](figures/{os.path.basename(bars)})",
               f"![{factor}: learning curves](figures/{os.path.basename(curves)})", ""]

    md += _best_section(results, summaries, figure_dir, images)
    failures = [(r.label, s, run["message"]) for r in results for s, run in r.runs.items()
                if run.get("status") != "finished"]
    md += ["", "## Failed runs", ""]
    md += [f"- {label}, {split}: {msg}" for label, split, msg in failures] or ["none"]
    md += ["", "## Data", ""] + [f"- {line}" for line in _data_summary(out)]
    md_path, html_path = os.path.join(out, "report.md"), os.path.join(out, "report.html")
    page = html_page.page("\n".join(md), images)
    for path, text in ((md_path, "\n".join(md) + "\n"), (html_path, page)):
        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    write_json(os.path.join(out, "study.json"),
               {r.label: {"runs": {s: run.get("test", {}).get("qwk") for s, run in r.runs.items()},
                          "pooled": summaries[r.label], "comparison": comparisons.get(r.label)}
                for r in results})
    return md_path, html_path


def _comparison_cells(c: dict | None, testing: bool) -> list[str]:
    if c is None:
        return ["—"] + (["—", "—", "base"] if testing else [])
    delta = _interval(**c["delta"]) if c["delta"] else "n/a"
    delta = delta if delta == "n/a" or delta.startswith("-") else "+" + delta
    if not testing:
        return [delta]
    p, p_holm = c["p_value"], c["p_holm"]
    if not np.isfinite(p):
        return [delta, "n/a", "n/a", "not testable"]
    verdict = ("better than base" if c["mean_difference"] > 0 else "worse than base") \
        if p_holm < ALPHA else "not shown to differ"
    return [delta, f"{p:.3f}", f"{p_holm:.3f}", verdict]


def _proposal_cell(proposal: dict) -> str:
    if proposal.get("status") != "finished":
        return proposal.get("status", "n/a")
    low, high = proposal["test_intervals"]["qwk"]
    return _interval(proposal["test"]["qwk"], low, high)


def _best_section(results, summaries, figure_dir: str, images: list) -> list[str]:
    scored = [r for r in results if summaries[r.label]]
    if not scored:
        return ["## Best condition", "",
                "No condition has all of its fold runs of a seed finished."]
    best = max(scored, key=lambda r: summaries[r.label]["qwk"]["estimate"])
    s = summaries[best.label]
    confusion = np.array(s["confusion"])
    recall = s["recall_per_grade"]
    heatmap = os.path.join(figure_dir, "best-confusion.png")
    figures.confusion_figure(confusion, best.label, heatmap)
    images.append(heatmap)
    seeds = f"once per seed, {s['seeds']} seeds" if s["seeds"] > 1 else "once"
    lines = [f"## Best condition: {best.label}", "",
             f"Highest pooled QWK ({_interval(**s['qwk'])}). Confusion matrix of its pooled "
             f"out-of-fold predictions (rows: reference grade; each knee counted {seeds}); recall "
             f"per grade with its 95% patient-bootstrap interval.", "",
             "| reference \\ predicted | " + " | ".join(grades.NAMES) + " | recall [95% CI] |",
             "|" + " --- |" * 7]
    for g in range(grades.COUNT):
        cell = _interval(recall["estimate"][g], recall["low"][g], recall["high"][g])
        counts = " | ".join(map(str, confusion[g]))
        lines.append(f"| {grades.NAMES[g]} | {counts} | {cell} |")
    return lines + ["", BESIDE,
                    f"![confusion matrix of {best.label}](figures/{os.path.basename(heatmap)})"]


# ---- data and HTML ----------------------------------------------------------------------

def _data_summary(out: str) -> list[str]:
    path = os.path.join(out, "crops.npz")
    if not os.path.exists(path):
        return ["(no crops archive found)"]
    from ..crops.archive import load_dataset
    data = load_dataset(path)
    lines = [f"{len(set(data.patients.tolist()))} patients, {len(data.labels)} knee crops; "
             f"knees per grade (0..4): {np.bincount(data.labels, minlength=grades.COUNT).tolist()}",
             f"unspecified knees left out: {data.summary.unspecified_knees}",
             f"patients are pseudonyms (docs/privacy.md); identifying info fields dropped at "
             f"reading: {sum(data.summary.dropped_info.values())}"]
    lines += [f"skipped {name}: {reason}" for name, _, reason in data.summary.skipped]
    return lines


