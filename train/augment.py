"""Balancing the training set by noise augmentation, following a policy given as data.

The seed paper (its Table 4) balances the training set only, with
``skimage.util.random_noise`` in three modes (Poisson, Gaussian, speckle) and
seed 0: per class, each noise is applied to a fraction of the class's
pre-augmented images, and the noisy images are either added as new images or
replace the originals.

A policy is JSON (``train/policies/paper.json`` is the default)::

    {"name": "paper", "seed": 0,
     "noises": {"poisson": {}, "gaussian": {"var": 0.01}, "speckle": {"var": 0.01}},
     "aliases": {"angry": "Anger", ...},
     "classes": {"Anger": {"fraction": 0.15, "mode": "add"}, ...}}

Counting and randomness (fixed and documented so the result is reproducible):

* ``k = floor(fraction * n + 1e-9)`` images per noise, n = the class's
  pre-augmented training count.  With the paper's Table 2 counts this gives
  its Table 5 exactly, provided Anger uses 0.15 (see ``paper.json``).
* One ``numpy.random.default_rng(seed)`` is used in this order: classes in code
  order, noises in policy order.  ``add``: each noise draws its own subset
  ``rng.choice(n, k, replace=False)``.  ``replace``: one ``rng.permutation(n)``
  is cut into disjoint subsets of k, one per noise, so no image is replaced twice.
  Then ``rng.integers(0, 2**63 - 1, size=k)`` per noise gives each noisy image its
  own seed, so images can be made in any order and in chunks.
* The final reshuffle uses a fresh ``default_rng(seed)``: ``rng.permutation(M)``.

Images are float in [0, 1], (H, W, C); noise keeps shape and clips to [0, 1].
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
from skimage.util import random_noise

POLICY_DIR = Path(__file__).resolve().parent / "policies"
NOISE_MODES = ("poisson", "gaussian", "speckle", "s&p", "salt", "pepper", "localvar")
"""Modes ``skimage.util.random_noise`` accepts (localvar needs parameters and is not recommended)."""


class PolicyError(ValueError):
    """The augmentation policy is malformed; the message names the field."""


@dataclass(frozen=True)
class Rule:
    """What one class gets: each noise on ``fraction`` of the class, added or replacing."""

    fraction: float
    mode: str  # "add" | "replace"


@dataclass
class Policy:
    """A parsed policy (see the module docstring for the JSON form)."""

    name: str
    seed: int
    noises: dict[str, dict]
    rules: dict[str, Rule]
    aliases: dict[str, str] = field(default_factory=dict)
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def rule_for(self, class_name: str) -> Rule | None:
        """The rule of ``class_name`` (case-insensitive, through ``aliases``), or None."""
        by_lower = {k.lower(): v for k, v in self.rules.items()}
        alias = {k.lower(): v.lower() for k, v in self.aliases.items()}
        key = class_name.lower()
        return by_lower.get(key) or by_lower.get(alias.get(key, ""))

    def to_dict(self) -> dict:
        return {"name": self.name, "seed": self.seed, "noises": self.noises, "aliases": self.aliases,
                "classes": {k: {"fraction": r.fraction, "mode": r.mode} for k, r in self.rules.items()},
                "source": self.source, "notes": self.notes}


def parse_policy(data: dict, source: str = "") -> Policy:
    """Validate a policy dict; raises :class:`PolicyError` naming the bad field."""
    if not isinstance(data, dict):
        raise PolicyError(f"policy {source}: expected a JSON object, got {type(data).__name__}; see train/policies/paper.json")
    noises = data.get("noises", {"poisson": {}, "gaussian": {}, "speckle": {}})
    if isinstance(noises, list):
        noises = {name: {} for name in noises}
    for name in noises:
        if name not in NOISE_MODES:
            raise PolicyError(f"policy {source}: expected noises among {NOISE_MODES}, got {name!r}; fix 'noises'")
    rules = {}
    for cls, rule in dict(data.get("classes", {})).items():
        try:
            fraction, mode = float(rule["fraction"]), str(rule.get("mode", "add"))
        except (KeyError, TypeError, ValueError):
            raise PolicyError(f"policy {source}: expected classes.{cls}.fraction as a number, got {rule!r}; fix it") from None
        if mode not in ("add", "replace"):
            raise PolicyError(f"policy {source}: expected classes.{cls}.mode add or replace, got {mode!r}; fix it")
        if fraction < 0 or fraction > 1 or (mode == "replace" and fraction * len(noises) > 1 + 1e-9):
            raise PolicyError(f"policy {source}: expected classes.{cls}.fraction in [0, 1] (for replace at most "
                              f"1/{len(noises)}), got {fraction}; fix it")
        rules[cls] = Rule(fraction, mode)
    return Policy(str(data.get("name", Path(source).stem or "custom")), int(data.get("seed", 0)), dict(noises), rules,
                  dict(data.get("aliases", {})), source, list(data.get("notes", [])))


def load_policy(spec: str) -> Policy | None:
    """"none" -> None; a name of ``train/policies/<name>.json`` or a path -> the parsed policy."""
    if spec == "none":
        return None
    path = POLICY_DIR / f"{spec}.json" if (POLICY_DIR / f"{spec}.json").is_file() else Path(spec)
    if not path.is_file():
        raise PolicyError(f"--augment: expected paper, none or a policy JSON file, got {spec!r} (no such file); "
                          "pass an existing file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PolicyError(f"--augment {path}: expected valid JSON, got a parse error at line {exc.lineno}; fix the file") from None
    return parse_policy(data, str(path))


def noise_count(fraction: float, n: int) -> int:
    """Images per noise: ``floor(fraction * n)`` (with 1e-9 slack for float products such as 0.1 * 7290)."""
    return int(math.floor(fraction * n + 1e-9))


@dataclass
class Plan:
    """Every row of the augmented training set, before the final reshuffle.

    Attributes:
        source: (M,) int64 row of the pre-augmented training set each output row comes from.
        noise: (M,) int8 index into ``noises``, -1 for an untouched image.
        seed: (M,) int64 seed of that row's noise (0 where untouched).
        codes: (M,) int64 class code of each row.
        noises: noise modes in policy order; params their ``random_noise`` keyword arguments.
        per_class: class name -> {"before", "added", "replaced", "after", "fraction", "mode", "per_noise"}.
    """

    source: np.ndarray
    noise: np.ndarray
    seed: np.ndarray
    codes: np.ndarray
    noises: list[str]
    params: list[dict]
    per_class: dict[str, dict]

    def __len__(self) -> int:
        return len(self.source)

    def permuted(self, order: np.ndarray) -> "Plan":
        """The same plan with rows reordered by ``order`` (M,)."""
        return Plan(self.source[order], self.noise[order], self.seed[order], self.codes[order], self.noises,
                    self.params, self.per_class)


def plan_augmentation(codes: np.ndarray, classes: Sequence[str], policy: Policy | None) -> Plan:
    """Decide which training images get which noise (no pixel work).

    Args:
        codes: (N,) int codes of the pre-augmented training set, in its order.
        classes: K class names (index = code).
        policy: None for no augmentation.
    """
    codes = np.asarray(codes, np.int64)
    n_total = len(codes)
    source = [np.arange(n_total, dtype=np.int64)]
    noise = [np.full(n_total, -1, np.int8)]
    seeds = [np.zeros(n_total, np.int64)]
    out_codes = [codes.copy()]
    noises = list(policy.noises) if policy else []
    params = [dict(policy.noises[m]) for m in noises] if policy else []
    per_class = {}
    rng = np.random.default_rng(policy.seed if policy else 0)
    for k, name in enumerate(classes):
        members = np.flatnonzero(codes == k)
        n = len(members)
        rule = policy.rule_for(name) if policy else None
        info = {"before": n, "added": 0, "replaced": 0, "after": n, "fraction": None, "mode": None, "per_noise": 0}
        per_class[name] = info
        if rule is None or n == 0:
            continue
        count = noise_count(rule.fraction, n)
        info.update(fraction=rule.fraction, mode=rule.mode, per_noise=count)
        if rule.mode == "replace":
            order = rng.permutation(n)
        for j, _ in enumerate(noises):
            subset = rng.choice(n, count, replace=False) if rule.mode == "add" else order[j * count:(j + 1) * count]
            row_seeds = rng.integers(0, 2 ** 63 - 1, size=count, dtype=np.int64)
            rows = members[subset]
            if rule.mode == "add":
                source.append(rows)
                noise.append(np.full(count, j, np.int8))
                seeds.append(row_seeds)
                out_codes.append(np.full(count, k, np.int64))
                info["added"] += count
            else:
                noise[0][rows] = j
                seeds[0][rows] = row_seeds
                info["replaced"] += count
        info["after"] = n + info["added"]
    return Plan(np.concatenate(source), np.concatenate(noise), np.concatenate(seeds), np.concatenate(out_codes),
                noises, params, per_class)


def shuffle_order(count: int, seed: int = 0) -> np.ndarray:
    """(count,) int64 permutation of the final reshuffle, from a fresh ``default_rng(seed)``."""
    return np.random.default_rng(seed).permutation(count).astype(np.int64)


def apply_noise(image: np.ndarray, mode: str, seed: int, params: dict | None = None) -> np.ndarray:
    """``skimage.util.random_noise`` on one float image in [0, 1].

    Args:
        image: (H, W, C) float32 in [0, 1] (BGR or grey; the noise is per pixel and channel).
        mode: "poisson", "gaussian", "speckle", ...
        seed: this image's seed (``rng=seed``).
    Returns:
        (H, W, C) float32 in [0, 1].
    """
    return random_noise(image, mode=mode, rng=int(seed), clip=True, **(params or {})).astype(np.float32)


def render_rows(plan: Plan, rows: slice, images: np.ndarray, train_index: np.ndarray) -> np.ndarray:
    """Float32 pixels of ``plan`` rows ``rows`` (a slice of the shuffled plan).

    Args:
        images: (N_all, H, W, C) uint8 source images (BGR or grey).
        train_index: (N,) int64 row in ``images`` of each pre-augmented training image.
    Returns:
        (len(rows), H, W, C) float32 in [0, 1].
    """
    batch = images[train_index[plan.source[rows]]].astype(np.float32)
    batch /= np.float32(255)  # the same rounding as the val set
    for i, j in enumerate(plan.noise[rows]):
        if j >= 0:
            batch[i] = apply_noise(batch[i], plan.noises[j], plan.seed[rows][i], plan.params[j])
    return batch
