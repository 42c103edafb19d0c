"""The preparation report: ``report.json``, ``report.md`` and histogram PNGs.

The tables follow the seed paper's Tables 1-5 (duplicates, split, alignment,
augmentation policy, augmentation counts) and its Figure 2 (class histogram).

``report.json`` schema (per class name under ``per_class``)::

    per_class[name].counts.{original, deduplicated, train, val, augmented_train}
    per_class[name].alignment.{train, val}.{aligned, not_aligned}
    per_class[name].augmentation.{fraction, mode, per_noise, added, replaced}
    class_weights {name: w}, label_encoding {name: code}, classes [names]
    skipped [{path, reason}], dropped {reason: n}, dedup {...}, split {...},
    alignment {...}, augmentation {policy, this_run, table4_vs_table5 {...}}, timings_s, peak_rss_mb,
    peak_rss_worker_mb

Nothing here prints; :func:`summary_rows` gives the CLI what to show.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from train import augment
from train.augment import Plan, Policy
from train.datasets import Inventory
from train.dedup import DedupResult

PAPER_TABLE2_TRAIN = {"Anger": 6582, "Disgust": 1967, "Fear": 2386, "Happiness": 7290, "Sadness": 10432, "Surprise": 5934}
"""Seed paper, Table 2: training images per class after the 80/20 split."""
PAPER_TABLE4 = {"Anger": (0.20, "add"), "Disgust": (1.0, "add"), "Fear": (1.0, "add"), "Happiness": (0.10, "add"),
                "Sadness": (0.10, "replace"), "Surprise": (0.20, "add")}
"""Seed paper, Table 4 as printed: fraction of the class per noise, and add/replace."""
PAPER_TABLE5_AFTER = {"Anger": 9543, "Disgust": 7868, "Fear": 9544, "Happiness": 9477, "Sadness": 10432, "Surprise": 9492}
"""Seed paper, Table 5: training images per class after augmentation."""


@dataclass
class Facts:
    """Everything the report needs, gathered by ``train.prepare.prepare``.

    Row indices (``train_rows``, ``val_rows``) and per-sample arrays (``scan_ok``,
    ``codes``, ``aligned``, ``shapes``) refer to the inventory's order.
    """

    config: dict
    inventory: Inventory
    scan_ok: np.ndarray
    scan_errors: list
    dedup: DedupResult
    classes: list
    codes: np.ndarray
    train_rows: np.ndarray
    val_rows: np.ndarray
    aligned: np.ndarray
    align_method: str
    plan: Plan
    policy: Policy | None
    weights: np.ndarray
    split: dict
    times: dict
    peak_rss_mb: float
    peak_rss_children_mb: float
    shapes: np.ndarray


def table4_vs_table5(policy: Policy | None) -> dict:
    """Check the paper's Table 4 (as printed) against its Table 5, from its Table 2 counts.

    Per class: the count Table 4's printed fraction gives (``floor(f * n)`` per noise, three
    noises), Table 5's count, the fraction range consistent with Table 5, and the fraction
    the policy uses.
    """
    rows = {}
    for name, n in PAPER_TABLE2_TRAIN.items():
        fraction, mode = PAPER_TABLE4[name]
        per_noise = augment.noise_count(fraction, n)
        printed = n + (3 * per_noise if mode == "add" else 0)
        after = PAPER_TABLE5_AFTER[name]
        implied = None
        if mode == "add" and (after - n) % 3 == 0:
            k = (after - n) // 3
            implied = [round(k / n, 5), round((k + 1) / n, 5)]  # floor(f n) = k for f in [k/n, (k+1)/n)
        rule = policy.rule_for(name) if policy else None
        used = None if rule is None else rule.fraction
        rows[name] = {"table2_train": n, "table4_fraction": fraction, "mode": mode, "table4_gives": printed,
                      "table5": after, "consistent": printed == after, "fraction_range_for_table5": implied,
                      "policy_fraction": used,
                      "policy_gives": None if rule is None else n + (3 * augment.noise_count(rule.fraction, n)
                                                                     if rule.mode == "add" else 0)}
    bad = [k for k, v in rows.items() if not v["consistent"]]
    if not bad:
        text = "Table 4 and Table 5 agree for every class."
    else:
        text = "Table 4 as printed does not give Table 5 for " + ", ".join(bad) + " (" + "; ".join(
            f"{int(round(rows[k]['table4_fraction'] * 100))}% per noise gives {rows[k]['table4_gives']} images, "
            f"Table 5 says {rows[k]['table5']}, which needs a fraction in {rows[k]['fraction_range_for_table5']}"
            for k in bad) + "). Every other class matches, counting floor(fraction x n) images per noise."
    if policy is None:
        text += " This run uses no augmentation."
    elif all(v["policy_gives"] == v["table5"] for v in rows.values()):
        text += f" Policy '{policy.name}' reproduces Table 5 exactly from Table 2's counts."
    else:
        off = [k for k, v in rows.items() if v["policy_gives"] != v["table5"]]
        text += f" Policy '{policy.name}' does not reproduce Table 5 for {', '.join(off)}."
    return {"per_class": rows, "finding": text}


def _paper_names(policy: Policy | None, classes: list, counts: dict) -> dict:
    """``counts`` keyed by the paper's class names where ``classes`` map onto them (case, policy aliases)."""
    paper = {name.lower(): name for name in PAPER_TABLE2_TRAIN}
    aliases = {k.lower(): v.lower() for k, v in (policy.aliases if policy else {}).items()}
    out = {}
    for name in classes:
        key = paper.get(name.lower()) or paper.get(aliases.get(name.lower(), ""))
        if key:
            out[key] = counts[name]
    return out


def build(facts: Facts) -> dict:
    """The report as a JSON-ready dict (schema in the module docstring)."""
    inv, classes = facts.inventory, facts.classes
    ok = np.flatnonzero(facts.scan_ok)
    kept = np.flatnonzero(facts.dedup.keep)
    original = Counter(inv.labels[i] for i in ok)
    deduped = Counter(inv.labels[i] for i in kept)
    train = Counter(inv.labels[i] for i in facts.train_rows)
    val = Counter(inv.labels[i] for i in facts.val_rows)
    after = Counter(classes[c] for c in facts.plan.codes)
    per_class = {}
    for code, name in enumerate(classes):
        tr = facts.train_rows[facts.codes[facts.train_rows] == code]
        va = facts.val_rows[facts.codes[facts.val_rows] == code]
        aug = facts.plan.per_class.get(name, {})
        per_class[name] = {
            "code": code,
            "counts": {"original": original[name], "deduplicated": deduped[name], "train": train[name],
                       "val": val[name], "augmented_train": after[name]},
            "alignment": {"train": {"aligned": int(facts.aligned[tr].sum()), "not_aligned": int((~facts.aligned[tr]).sum())},
                          "val": {"aligned": int(facts.aligned[va].sum()), "not_aligned": int((~facts.aligned[va]).sum())}},
            "duplicates_removed": facts.dedup.removed.get(name, 0),
            "augmentation": {k: aug.get(k) for k in ("fraction", "mode", "per_noise", "added", "replaced")},
        }
    shapes = Counter(tuple(int(v) for v in s) for s in facts.shapes[ok])
    matches_table2 = _paper_names(facts.policy, classes, {n: train[n] for n in classes}) == PAPER_TABLE2_TRAIN
    run_check = {"train_counts_equal_table2": matches_table2}
    if matches_table2:
        after_paper = _paper_names(facts.policy, classes, {n: after[n] for n in classes})
        run_check["augmented_counts_equal_table5"] = after_paper == PAPER_TABLE5_AFTER
    augmentation = {"policy": None if facts.policy is None else facts.policy.to_dict(), "this_run": run_check,
                    "noise_order": facts.plan.noises,
                    "table4_vs_table5": table4_vs_table5(facts.policy)}
    if facts.policy is not None:
        unmatched = [n for n in classes if facts.policy.rule_for(n) is None]
        augmentation["classes_without_rule"] = unmatched
    return {
        "data": str(inv.root), "layout": inv.layout, "label_source": inv.label_source, "config": facts.config,
        "classes": classes, "label_encoding": {n: i for i, n in enumerate(classes)},
        "class_weights": {n: float(facts.weights[i]) for i, n in enumerate(classes)},
        "per_class": per_class,
        "totals": {"listed": len(inv), "read": int(len(ok)), "deduplicated": int(len(kept)),
                   "train": int(len(facts.train_rows)), "val": int(len(facts.val_rows)),
                   "augmented_train": int(len(facts.plan))},
        "skipped": [{"path": p, "reason": r} for p, r in list(inv.skipped) + list(facts.scan_errors)],
        "dropped": inv.dropped, "notes": inv.notes,
        "dedup": {"removed": facts.dedup.total_removed, "within_split": facts.dedup.within,
                  "train_also_in_val_removed": facts.dedup.leaked, "leaked_by_class": facts.dedup.leaked_by_class,
                  "groups_with_conflicting_labels": facts.dedup.conflicts, "hash": "sha1 of file bytes, first copy kept"},
        "input_shapes": {"x".join(map(str, k)): v for k, v in sorted(shapes.items(), key=lambda kv: -kv[1])[:10]},
        "split": facts.split,
        "alignment": {"method": facts.align_method, "aligned": int(facts.aligned.sum())},
        "augmentation": augmentation,
        "timings_s": facts.times, "peak_rss_mb": round(facts.peak_rss_mb, 1),
        "peak_rss_worker_mb": round(facts.peak_rss_children_mb, 1),
    }


def _md_table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def summary_rows(rep: dict) -> dict[str, tuple[list[str], list[list]]]:
    """Tables as {title: (headers, rows)}, shared by report.md and the CLI."""
    names = rep["classes"]
    pc = rep["per_class"]
    tot = rep["totals"]
    tables = {
        "Table 1: class distribution and SHA-1 duplicate removal (before the split)": (
            ["class", "before", "after", "removed"],
            [[n, pc[n]["counts"]["original"], pc[n]["counts"]["deduplicated"], pc[n]["duplicates_removed"]] for n in names]
            + [["total", tot["read"], tot["deduplicated"], tot["read"] - tot["deduplicated"]]]),
        "Table 2: label encoding and train/val split": (
            ["class", "code", "train", "val"],
            [[n, pc[n]["code"], pc[n]["counts"]["train"], pc[n]["counts"]["val"]] for n in names]
            + [["total", "", tot["train"], tot["val"]]]),
        f"Table 3: alignment ({rep['alignment']['method']})": (
            ["class", "train aligned", "train not aligned", "val aligned", "val not aligned"],
            [[n, pc[n]["alignment"]["train"]["aligned"], pc[n]["alignment"]["train"]["not_aligned"],
              pc[n]["alignment"]["val"]["aligned"], pc[n]["alignment"]["val"]["not_aligned"]] for n in names]),
        "Table 4: augmentation policy": (
            ["class", "fraction per noise", "mode", "images per noise"],
            [[n, pc[n]["augmentation"]["fraction"] if pc[n]["augmentation"]["fraction"] is not None else "-",
              pc[n]["augmentation"]["mode"] or "-", pc[n]["augmentation"]["per_noise"] or 0] for n in names]),
        "Table 5: training set before and after augmentation, class weights": (
            ["class", "before", "after", "class weight"],
            [[n, pc[n]["counts"]["train"], pc[n]["counts"]["augmented_train"], f"{rep['class_weights'][n]:.4f}"]
             for n in names] + [["total", tot["train"], tot["augmented_train"], ""]]),
    }
    return tables


def _figures(rep: dict, out: Path) -> list[Path]:
    """Histogram PNGs: the class distribution (paper's Figure 2) and the split/augmentation counts."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    names = rep["classes"]
    pc = rep["per_class"]
    paths = []
    fig, ax = plt.subplots(figsize=(7, 4))
    values = [pc[n]["counts"]["original"] for n in names]
    bars = ax.bar(names, values, color="tab:blue")
    ax.bar_label(bars)
    ax.set(title="Class distribution as read (cf. the paper's Figure 2)", ylabel="images")
    fig.tight_layout()
    paths.append(out / "class_distribution.png")
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4))
    x = np.arange(len(names))
    for j, (key, label) in enumerate([("train", "train"), ("val", "val"), ("augmented_train", "train after augmentation")]):
        ax.bar(x + (j - 1) * 0.27, [pc[n]["counts"][key] for n in names], 0.27, label=label)
    ax.set_xticks(x, names)
    ax.set(title="Split and augmentation", ylabel="images")
    ax.legend()
    fig.tight_layout()
    paths.append(out / "split_counts.png")
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    return paths


def markdown(rep: dict, figures: list[Path]) -> str:
    """``report.md``: all tables, figures, skipped files and findings."""
    parts = [f"# Data preparation report\n\nData: `{rep['data']}` (layout {rep['layout']}, labels {rep['label_source']}). "
             f"Classes (LabelEncoder order): {', '.join(rep['classes'])}.\n"]
    for title, (headers, rows) in summary_rows(rep).items():
        parts.append(f"## {title}\n\n{_md_table(headers, rows)}\n")
    d = rep["dedup"]
    parts.append(f"## Duplicates\n\n{d['removed']} copies removed by SHA-1 of the file bytes (first copy kept); "
                 f"within splits: {d['within_split']}; training images also in val removed: "
                 f"{d['train_also_in_val_removed']} {d['leaked_by_class'] or ''}; duplicate groups with conflicting "
                 f"labels: {d['groups_with_conflicting_labels']}.\n")
    parts.append(f"## Split\n\n`{json.dumps(rep['split'])}`\n")
    aug = rep["augmentation"]
    this_run = aug["this_run"]
    run_text = ("This run's training counts equal Table 2; its augmented counts "
                + ("equal" if this_run.get("augmented_counts_equal_table5") else "do NOT equal") + " Table 5."
                if this_run["train_counts_equal_table2"] else "This run's training counts differ from Table 2.")
    parts.append("## Table 4 vs Table 5 (seed paper)\n\n" + aug["table4_vs_table5"]["finding"] + " " + run_text + "\n\n" + _md_table(
        ["class", "Table 2 train", "Table 4 fraction", "gives", "Table 5", "fraction range for Table 5", "policy fraction"],
        [[k, v["table2_train"], v["table4_fraction"], v["table4_gives"], v["table5"],
          v["fraction_range_for_table5"] or "n/a (replace keeps the count)",
          v["policy_fraction"]] for k, v in aug["table4_vs_table5"]["per_class"].items()]) + "\n")
    if aug["policy"]:
        notes = "\n".join(f"- {n}" for n in aug["policy"].get("notes", []))
        parts.append(f"Policy `{aug['policy']['name']}` ({aug['policy']['source']}), noises in order "
                     f"{aug['noise_order']}, seed {aug['policy']['seed']}; classes without a rule (not augmented): "
                     f"{aug.get('classes_without_rule') or 'none'}.\n\n{notes}\n")
    else:
        parts.append("Augmentation: none.\n")
    if rep["notes"] or rep["dropped"]:
        parts.append("## Label notes\n\n" + "\n".join(f"- {n}" for n in rep["notes"])
                     + "".join(f"\n- dropped, {k}: {v}" for k, v in rep["dropped"].items()) + "\n")
    parts.append(f"## Input image shapes (H x W x C, most common)\n\n`{rep['input_shapes']}`\n")
    skipped = rep["skipped"]
    parts.append(f"## Skipped files ({len(skipped)})\n\n" + ("\n".join(f"- `{s['path']}`: {s['reason']}" for s in skipped[:200])
                                                              or "none") + ("\n- ..." if len(skipped) > 200 else "") + "\n")
    for fig in figures:
        parts.append(f"![{fig.stem}]({fig.name})\n")
    parts.append(f"## Resources\n\nTimings (s): `{rep['timings_s']}`; peak RSS {rep['peak_rss_mb']} MiB (largest alignment worker: "
                 f"{rep['peak_rss_worker_mb']} MiB).\n")
    return "\n".join(parts)


def write_report(facts: Facts, out: Path, figures: bool = True) -> list[Path]:
    """Write ``report.json``, the PNGs (optional) and ``report.md`` into ``out``; returns their paths."""
    rep = build(facts)
    pngs = _figures(rep, out) if figures else []
    rep["figures"] = [p.name for p in pngs]
    (out / "report.json").write_text(json.dumps(rep, indent=2) + "\n", encoding="utf-8")
    (out / "report.md").write_text(markdown(rep, pngs), encoding="utf-8")
    return [out / "report.json", out / "report.md"] + pngs


def load_json(out: Path) -> dict:
    """Read ``out/report.json``."""
    return json.loads((Path(out) / "report.json").read_text(encoding="utf-8"))
