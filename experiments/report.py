"""A study's results as ``report.md`` and a self-contained ``report.html`` (plots inlined).

For every factor: a table of each condition's test metrics over its fold runs (mean +- SD and
the 95% t-interval of the mean),
the difference in quadratic-weighted kappa from the base condition with its paired Wilcoxon
p-value over the same (fold, seed) splits, and the proposal's own split for reference; a bar
chart with error bars and the mean validation learning curves. Then the confusion matrix and
per-grade recall of the condition with the best mean kappa, failed runs with their messages,
and the data summary (patients, knees per grade, skipped files with reasons).
"""
from __future__ import annotations

import base64
import html
import os

import numpy as np

from .atomic import atomic_path, write_json
from .study import METRICS, ConditionResult, Study, collect, compare, slug

GRADES = ("normal", "minimal", "mild", "moderate", "severe")
SIGNIFICANCE = ("A condition 'differs' from the base only when a paired Wilcoxon signed-rank test "
                "over the same (fold, seed) splits gives p < 0.05 for the test quadratic-weighted "
                "kappa; otherwise the data show no evidence of a difference.")


def _mean_sd(values: np.ndarray) -> str:
    """``mean ± SD [low, high]`` over the runs, the interval a 95% t-interval of the mean."""
    from scipy import stats
    values = values[np.isfinite(values)]
    if not len(values):
        return "n/a"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    sd = values.std(ddof=1)
    half = stats.t.ppf(0.975, len(values) - 1) * sd / np.sqrt(len(values))
    return f"{values.mean():.3f} ± {sd:.3f} [{values.mean() - half:.2f}, {values.mean() + half:.2f}]"


def _figure_bars(results: list[ConditionResult], factor: str, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = [r for r in results if r.factor in ("base", factor)]
    means = [np.nanmean(r.values("qwk")) if np.isfinite(r.values("qwk")).any() else 0 for r in rows]
    sds = [np.nanstd(r.values("qwk")) if np.isfinite(r.values("qwk")).any() else 0 for r in rows]
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(rows), 3.2))
    ax.bar(range(len(rows)), means, yerr=sds, capsize=4, color="#4c78a8")
    ax.set_xticks(range(len(rows)), [r.label for r in rows], rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("test QWK (mean ± SD)")
    ax.set_title(factor)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _figure_curves(results: list[ConditionResult], factor: str, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for r in (r for r in results if r.factor in ("base", factor)):
        curves = [[h["val_qwk"] for h in run["history"]] for s, run in r.runs.items() if s != "proposal"]
        if not curves:
            continue
        length = min(map(len, curves))
        ax.plot(range(1, length + 1), np.nanmean([c[:length] for c in curves], axis=0), label=r.label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation QWK (mean over runs)")
    ax.legend(fontsize=7)
    ax.set_title(f"{factor}: learning curves")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _data_summary(out: str) -> list[str]:
    path = os.path.join(out, "crops.npz")
    if not os.path.exists(path):
        return ["(no crops archive found)"]
    from .dataset import load_dataset
    data = load_dataset(path)
    lines = [f"{len(set(data.patients.tolist()))} patients, {len(data.labels)} knee crops; knees per "
             f"grade (0..4): {np.bincount(data.labels, minlength=5).tolist()}",
             f"unspecified knees left out: {data.summary.unspecified_knees}",
             f"patients are pseudonyms (docs/privacy.md); identifying info fields dropped at "
             f"reading: {sum(data.summary.dropped_info.values())}"]
    lines += [f"skipped {name}: {reason}" for name, _, reason in data.summary.skipped]
    return lines


def write_report(study: Study, out: str) -> tuple[str, str]:
    """Write ``OUT/report.md`` and ``OUT/report.html``; returns their paths."""
    results = collect(study, out)
    base = results[0]
    figures = os.path.join(out, "figures")
    os.makedirs(figures, exist_ok=True)
    md = [f"# {study.name}: results", "", SIGNIFICANCE, "",
          f"Splits: {study.folds} stratified patient-grouped folds x seeds {list(study.seeds)}"
          + (", plus the proposal's split (last 20 patients)." if study.proposal_split else "."), ""]
    images = []
    for factor in ["base"] + [f.name for f in study.factors]:
        rows = [r for r in results if r.factor in ("base", factor)]
        if factor == "base" and study.factors:
            continue
        md += [f"## {factor}", "",
               "| condition | runs | " + " | ".join(METRICS) + " | ΔQWK vs base | p | verdict | proposal split QWK |",
               "|" + " --- |" * (len(METRICS) + 6)]
        for r in rows:
            finished = int(np.isfinite(r.values("qwk")).sum())
            cells = [_mean_sd(r.values(m)) for m in METRICS]
            if r is base:
                verdict_cells = ["—", "—", "base"]
            else:
                c = compare(base, r)
                verdict_cells = [f"{c['mean_difference']:+.3f}", f"{c['p_value']:.3f}" if np.isfinite(c["p_value"]) else "n/a",
                                 "differs" if c["significant"] else "no evidence"]
            proposal = r.runs.get("proposal", {})
            if proposal.get("status") == "finished":
                low, high = proposal["test_intervals"]["qwk"]
                proposal_text = f"{proposal['test']['qwk']:.3f} ({low:.2f}-{high:.2f})"
            else:
                proposal_text = proposal.get("status", "n/a")
            md.append(f"| {r.label} | {finished} | " + " | ".join(cells) + " | " + " | ".join(verdict_cells)
                      + f" | {proposal_text} |")
        bars, curves = (os.path.join(figures, f"{slug(factor)}-{kind}.png") for kind in ("bars", "curves"))
        _figure_bars(results, factor, bars)
        _figure_curves(results, factor, curves)
        images += [bars, curves]
        md += ["", f"![{factor}: test QWK](figures/{os.path.basename(bars)})",
               f"![{factor}: learning curves](figures/{os.path.basename(curves)})", ""]

    best = max(results, key=lambda r: np.nanmean(r.values("qwk")) if np.isfinite(r.values("qwk")).any() else -1)
    confusion = np.zeros((5, 5), dtype=int)
    for split, run in best.runs.items():
        if split != "proposal" and run.get("status") == "finished":
            confusion += np.array(run["test"]["confusion"])
    recall = np.divide(np.diag(confusion), confusion.sum(1), out=np.full(5, np.nan), where=confusion.sum(1) > 0)
    md += [f"## Best condition: {best.label}", "", "Confusion matrix over its fold runs (rows: true grade).", "",
           "| true \\ predicted | " + " | ".join(GRADES) + " | recall |", "|" + " --- |" * 7]
    md += [f"| {GRADES[i]} | " + " | ".join(map(str, confusion[i])) + f" | {recall[i]:.2f} |" for i in range(5)]
    failures = [(r.label, s, run["message"]) for r in results for s, run in r.runs.items()
                if run.get("status") != "finished"]
    md += ["", "## Failed runs", ""] + ([f"- {label}, {split}: {msg}" for label, split, msg in failures]
                                        or ["none"])
    md += ["", "## Data", ""] + [f"- {line}" for line in _data_summary(out)]
    md_path, html_path = os.path.join(out, "report.md"), os.path.join(out, "report.html")
    for path, text in ((md_path, "\n".join(md) + "\n"), (html_path, _html("\n".join(md), images))):
        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    write_json(os.path.join(out, "study.json"),
               {r.label: {s: run.get("test", {}).get("qwk") for s, run in r.runs.items()} for r in results})
    return md_path, html_path


def _html(markdown: str, images: list[str]) -> str:
    """A plain self-contained HTML rendering: tables as tables, figures inlined as data URIs."""
    inline = {os.path.basename(p): base64.b64encode(open(p, "rb").read()).decode() for p in images}
    body, table = [], []

    def flush():
        if table:
            rows = [row for row in table if not set(row.replace("|", "").strip()) <= {"-", " "}]
            cells = [[html.escape(c.strip()) for c in row.strip("|").split("|")] for row in rows]
            body.append("<table><tr>" + "".join(f"<th>{c}</th>" for c in cells[0]) + "</tr>"
                        + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in cells[1:])
                        + "</table>")
            table.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        if line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("![") and "](figures/" in line:
            name = line.split("](figures/")[1].rstrip(")")
            body.append(f'<img alt="{html.escape(line[2:line.index("]")])}" src="data:image/png;base64,{inline[name]}">')
        elif line.startswith("- "):
            body.append(f"<li>{html.escape(line[2:])}</li>")
        elif line.strip():
            body.append(f"<p>{html.escape(line)}</p>")
    flush()
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse;"
             "font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px}img{max-width:100%}")
    return f"<!doctype html><html><head><meta charset='utf-8'><style>{style}</style></head><body>{''.join(body)}</body></html>"
