"""Train an expression CNN on prepared data: ``python -m train.fit --config configs/default.toml``.

Reads a prepared folder (``train/prepare.py``'s contract: ``train_x.npy`` float32
(N, H, W, C) in [0, 1], ``train_y.npy`` float32 one-hot (N, K), ``val_x.npy``,
``val_y.npy``, ``meta.json``), trains with a class-weighted, label-smoothed
cross-entropy, online geometric augmentation and a cosine learning-rate schedule
stretched over a wall-clock budget, and writes into the run folder:

    last.keras, state.json   resumable checkpoint (model + optimiser, epoch, step, elapsed time)
    best.keras               the epoch with the best validation macro-F1
    history.json             per-epoch loss / accuracy / macro-F1 / learning rate / img/s
    metrics.json             the best checkpoint on val: accuracy, macro-F1, per-class P/R/F1, confusion
    curves.png, confusion.png
    config.json, meta.json   the recipe and the data it ran on

An interrupted run (Ctrl-C, SIGTERM) saves ``last.keras`` first; ``--resume`` goes on from it.
Only :func:`main` prints.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np

from train.config import AugmentConfig, TrainConfig, load_config
from train.prepared import FitError, Prepared  # noqa: F401  (train.fit.FitError / Prepared stay importable)
from train.metrics import classification_report
from train.photometric import photometric

REQUIRED_FILES = ("train_x.npy", "train_y.npy", "val_x.npy", "val_y.npy", "meta.json")


PRECISIONS = ("float32", "mixed_bfloat16")


def load_prepared(folder: str | Path) -> Prepared:
    """Load a prepared folder into RAM (float32) and check shapes against ``meta.json``.

    Raises:
        FitError: a file is missing or shapes/classes disagree.
    """
    folder = Path(folder)
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if missing:
        raise FitError(f"prepared data {folder}: expected {', '.join(REQUIRED_FILES)}, missing {', '.join(missing)}; "
                       "run the config's `prepare` command (python -m train.prepare ...) first")
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    arrays = {name: np.asarray(np.load(folder / f"{name}.npy", mmap_mode="r"), dtype=np.float32)
              for name in ("train_x", "train_y", "val_x", "val_y")}
    k = len(meta.get("classes", []))
    for part in ("train", "val"):
        x, y = arrays[f"{part}_x"], arrays[f"{part}_y"]
        if x.ndim != 4 or y.ndim != 2 or len(x) != len(y) or y.shape[1] != k:
            raise FitError(f"prepared data {folder}: expected {part}_x (N,H,W,C) and {part}_y (N,{k}) for classes "
                           f"{meta.get('classes')}, got {x.shape} and {y.shape}; re-run train.prepare")
    return Prepared(meta=meta, **arrays)


def load_data(cfg: TrainConfig) -> Prepared:
    """The prepared data ``cfg`` trains on: ``train.faceres_model.load_prepared`` for arch "faceres"
    (uint8 images made into batches on demand), :func:`load_prepared` otherwise."""
    if cfg.model.arch == "faceres":
        from train.faceres_model import load_prepared as load_faceres

        return load_faceres(cfg.data, cfg.model.input_size, cfg.expw_repeat, cfg.fer_fraction)
    return load_prepared(cfg.data)


def class_weight_vector(meta: dict, power: float) -> np.ndarray:
    """(K,) float32 loss weight per class: ``meta['class_weights'][c] ** power``, mean over samples ~1."""
    classes = meta["classes"]
    weights = meta.get("class_weights") or {c: 1.0 for c in classes}
    return np.array([float(weights[c]) ** power for c in classes], np.float32)


# --------------------------------------------------------------------------- augmentation

def augment_batch(x: np.ndarray, y: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator):
    """Random flip / rotation / zoom / shift (one warp per image), photometric effects
    (``train.photometric``), random erasing, and mixup.

    Args:
        x: (n, H, W, C) float32 in [0, 1]; y: (n, K) float32 (one-hot or soft).
    Returns:
        (x, y) new arrays of the same shapes and dtypes.
    """
    import cv2

    x = np.array(x, np.float32, copy=True)
    y = np.array(y, np.float32, copy=True)
    n, h, w, c = x.shape
    geometric = cfg.rotate > 0 or cfg.shift > 0 or cfg.scale > 0
    photometric_on = max(cfg.blur, cfg.jpeg, cfg.noise, cfg.light) > 0
    for i in range(n):
        img = x[i]
        if cfg.flip > 0 and rng.random() < cfg.flip:
            img = img[:, ::-1]
        if geometric:
            angle = rng.uniform(-cfg.rotate, cfg.rotate)
            zoom = 1.0 + rng.uniform(-cfg.scale, cfg.scale)
            m = cv2.getRotationMatrix2D((w / 2 - 0.5, h / 2 - 0.5), angle, zoom)
            m[0, 2] += rng.uniform(-cfg.shift, cfg.shift) * w
            m[1, 2] += rng.uniform(-cfg.shift, cfg.shift) * h
            img = cv2.warpAffine(np.ascontiguousarray(img), m, (w, h), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REFLECT_101)
            img = img.reshape(h, w, c)
        if photometric_on:
            img = photometric(img, cfg, rng)
        if cfg.gray > 0 and c == 3 and rng.random() < cfg.gray:
            img = np.repeat(cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_BGR2GRAY)[:, :, None], 3, axis=2)
        if cfg.erase > 0 and rng.random() < cfg.erase:
            area = rng.uniform(0.02, 0.2) * h * w
            ratio = np.exp(rng.uniform(np.log(0.3), np.log(3.3)))
            eh, ew = int(round(np.sqrt(area * ratio))), int(round(np.sqrt(area / ratio)))
            if 0 < eh < h and 0 < ew < w:
                top, left = rng.integers(0, h - eh), rng.integers(0, w - ew)
                img = np.array(img, copy=True)
                img[top:top + eh, left:left + ew] = rng.random((eh, ew, c), dtype=np.float32)
        x[i] = img
    if cfg.mixup > 0:
        lam = rng.beta(cfg.mixup, cfg.mixup, size=(n, 1)).astype(np.float32)
        lam = np.maximum(lam, 1 - lam)
        perm = rng.permutation(n)
        x = lam[:, :, None, None] * x + (1 - lam[:, :, None, None]) * x[perm]
        y = lam * y + (1 - lam) * y[perm]
    return x, y


def learning_rate(cfg: TrainConfig, progress: float) -> float:
    """Learning rate at ``progress`` in [0, 1]: linear warm-up, then cosine to 0 (or constant)."""
    progress = min(max(progress, 0.0), 1.0)
    if cfg.warmup_frac > 0 and progress < cfg.warmup_frac:
        return cfg.lr * progress / cfg.warmup_frac
    if cfg.schedule == "constant":
        return cfg.lr
    rest = (progress - cfg.warmup_frac) / max(1e-9, 1.0 - cfg.warmup_frac)
    return float(cfg.lr * 0.5 * (1.0 + np.cos(np.pi * rest)))


# --------------------------------------------------------------------------- model helpers

def _keras(backend: str):
    """Import keras on ``backend``; raise FitError if keras is already loaded on another one."""
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != backend:
            raise FitError(f"keras backend: expected {backend!r} (from the config), got {keras.backend.backend()!r} "
                           "already imported; set KERAS_BACKEND before starting Python")
        return keras
    os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    return keras


def compile_model(cfg: TrainConfig, input_shape, n_classes: int):
    """Build and compile a fresh model for ``cfg`` (optimizer, smoothed from-logits loss).

    Sets Keras's global dtype policy to ``cfg.precision`` (it stays set for this process).
    """
    keras = _keras(cfg.backend)
    from train.model import build_model

    keras.utils.set_random_seed(cfg.seed)
    if cfg.precision not in PRECISIONS:
        raise FitError(f"config precision: expected one of {list(PRECISIONS)}, got {cfg.precision!r}; fix the config")
    keras.mixed_precision.set_global_policy(cfg.precision)
    if cfg.model.arch == "faceres":
        from train.faceres_model import build_classifier

        model = build_classifier(cfg.model, n_classes, name=cfg.name)
    else:
        model = build_model(cfg.model.arch, tuple(input_shape), n_classes, widths=cfg.model.widths,
                            blocks=cfg.model.blocks, dropout=cfg.model.dropout, name=cfg.name)
    if cfg.optimizer == "adamw":
        opt = keras.optimizers.AdamW(learning_rate=cfg.lr, weight_decay=cfg.weight_decay)
    elif cfg.optimizer == "adam":
        opt = keras.optimizers.Adam(learning_rate=cfg.lr)
    elif cfg.optimizer == "sgd":
        opt = keras.optimizers.SGD(learning_rate=cfg.lr, momentum=cfg.momentum, nesterov=True,
                                   weight_decay=cfg.weight_decay or None)
    else:
        raise FitError(f"config optimizer: expected adamw, adam or sgd, got {cfg.optimizer!r}; fix the config")
    model.compile(optimizer=opt, loss=keras.losses.CategoricalCrossentropy(from_logits=True,
                                                                           label_smoothing=cfg.label_smoothing),
                  metrics=["categorical_accuracy"])
    return model


def load_initial_weights(model, path: str | Path, keras) -> None:
    """Copy the weights of the checkpoint ``path`` into ``model`` (same architecture and classes).

    Raises:
        FitError: missing file, or a checkpoint whose weights do not fit ``model``.
    """
    path = Path(path)
    if not path.is_file():
        raise FitError(f"config init_from: expected a .keras checkpoint, got no file {path}; train the first stage "
                       "or fix the path")
    source = keras.models.load_model(path, compile=False)
    theirs, ours = source.get_weights(), model.get_weights()
    mismatched = [i for i, (a, b) in enumerate(zip(theirs, ours)) if a.shape != b.shape]
    if len(theirs) != len(ours) or mismatched:
        raise FitError(f"config init_from: expected a checkpoint of this config's architecture and classes, got {path} "
                       f"with {len(theirs)} weight arrays (this model: {len(ours)}; shape mismatches at {mismatched[:5]})")
    model.set_weights(theirs)


def predict_probs(model, x: np.ndarray, flip: bool = False, batch_size: int = 512) -> np.ndarray:
    """(n, K) float32 softmax probabilities of a logits model, optionally averaged with the mirrored input."""
    out = []
    for start in range(0, len(x), batch_size):
        chunk = np.asarray(x[start:start + batch_size], np.float32)
        logits = np.asarray(model.predict_on_batch(chunk), np.float32)
        if flip:
            logits_f = np.asarray(model.predict_on_batch(np.ascontiguousarray(chunk[:, :, ::-1])), np.float32)
            out.append((_softmax(logits) + _softmax(logits_f)) / 2)
        else:
            out.append(_softmax(logits))
    return np.concatenate(out) if out else np.zeros((0, model.output_shape[-1]), np.float32)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _save_atomic(model, path: Path) -> None:
    tmp = path.with_name(path.stem + ".tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)


def _write_json(path: Path, data) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- training loop

class _Stop:
    """Set by SIGTERM / SIGINT so the loop can save a checkpoint before it exits."""

    requested = False


def fit(cfg: TrainConfig, resume: bool = False, data: Prepared | None = None,
        on_epoch_start: Callable | None = None, on_step: Callable | None = None,
        on_epoch_end: Callable | None = None) -> dict:
    """Train ``cfg``; return ``{"best": {...}, "history": [...], "stopped": reason, "out": path}``.

    Callbacks (for the CLI's progress bars): ``on_epoch_start(epoch, steps)``,
    ``on_step(epoch, step, logs)``, ``on_epoch_end(epoch, record)``.
    """
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    data = data or load_data(cfg)
    keras = _keras(cfg.backend)
    n_classes = len(data.classes)
    cw = class_weight_vector(data.meta, cfg.class_weight_power)
    state_path, last_path, best_path = out / "state.json", out / "last.keras", out / "best.keras"
    if resume:
        if not (state_path.is_file() and last_path.is_file()):
            raise FitError(f"--resume: expected {last_path} and {state_path}, got none; start without --resume")
        state = json.loads(state_path.read_text(encoding="utf-8"))
        if state.get("classes") != data.classes:
            raise FitError(f"--resume: checkpoint classes {state.get('classes')} differ from the data's {data.classes}; "
                           "use another --out or the matching data")
        model = keras.models.load_model(last_path)
    else:
        state = {"epoch": 0, "step": 0, "elapsed_s": 0.0, "best_f1": -1.0, "best_epoch": 0, "history": [],
                 "classes": data.classes}
        model = compile_model(cfg, data.train_x.shape[1:], n_classes)
        if cfg.init_from:
            load_initial_weights(model, cfg.init_from, keras)
    _write_json(out / "config.json", cfg.to_dict())
    _write_json(out / "meta.json", data.meta)

    n = len(data.train_x)
    steps_per_epoch = max(1, n // cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    budget_s = cfg.max_minutes * 60.0 if cfg.max_minutes > 0 else float("inf")
    rng = np.random.default_rng(cfg.seed + 1000 * state["epoch"])
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    _Stop.requested = False

    def request_stop(signum, frame):
        _Stop.requested = True

    for sig in previous:
        try:
            signal.signal(sig, request_stop)
        except ValueError:  # not the main thread
            pass
    started = time.monotonic() - state["elapsed_s"]
    stopped = "epochs"
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        while state["epoch"] < cfg.epochs:
            epoch = state["epoch"] + 1
            order = rng.permutation(n)
            batches = [order[i * cfg.batch_size:(i + 1) * cfg.batch_size] for i in range(steps_per_epoch)]
            seeds = rng.integers(0, 2**31, size=len(batches))

            def make(i):
                idx = np.sort(batches[i])
                return augment_batch(data.train_x[idx], data.train_y[idx], cfg.augment, np.random.default_rng(seeds[i]))

            if on_epoch_start:
                on_epoch_start(epoch, len(batches))
            t0, seen, loss_sum, acc_sum = time.monotonic(), 0, 0.0, 0.0
            pending = pool.submit(make, 0)
            out_of_time = False
            for i in range(len(batches)):
                xb, yb = pending.result()
                if i + 1 < len(batches):
                    pending = pool.submit(make, i + 1)
                progress = max(state["step"] / total_steps, (time.monotonic() - started) / budget_s)
                lr = learning_rate(cfg, progress)
                model.optimizer.learning_rate.assign(lr)
                logs = model.train_on_batch(xb, yb, sample_weight=yb @ cw, return_dict=True)
                state["step"] += 1
                seen += len(xb)
                loss_sum += float(logs["loss"]) * len(xb)
                acc_sum += float(logs.get("categorical_accuracy", 0.0)) * len(xb)
                if on_step:
                    on_step(epoch, i + 1, {"loss": loss_sum / seen, "acc": acc_sum / seen, "lr": lr})
                if _Stop.requested:
                    break
                if time.monotonic() - started >= budget_s:
                    out_of_time = True
                    break
            train_s = time.monotonic() - t0
            if _Stop.requested:  # keep the last checkpoint of the interrupted epoch's start; do not count it
                stopped = "interrupted"
                break
            probs = predict_probs(model, data.val_x, flip=cfg.eval_flip)
            y_val = data.val_y.argmax(1)
            rep = classification_report(y_val, probs.argmax(1), data.classes)
            val_loss = float(-np.mean(np.sum(data.val_y * np.log(np.clip(probs, 1e-7, 1.0)), axis=1)))
            record = {"epoch": epoch, "lr": lr, "train_loss": loss_sum / max(seen, 1), "train_acc": acc_sum / max(seen, 1),
                      "val_loss": val_loss, "val_acc": rep["accuracy"], "val_macro_f1": rep["macro_f1"],
                      "img_per_s": seen / max(train_s, 1e-9), "images": seen, "partial": out_of_time,
                      "elapsed_s": time.monotonic() - started}
            state["history"].append(record)
            state["epoch"] = epoch
            state["elapsed_s"] = time.monotonic() - started
            if rep["macro_f1"] > state["best_f1"]:
                state["best_f1"], state["best_epoch"] = rep["macro_f1"], epoch
                _save_atomic(model, best_path)
            _save_atomic(model, last_path)
            _write_json(state_path, state)
            _write_json(out / "history.json", state["history"])
            if on_epoch_end:
                on_epoch_end(epoch, record)
            if out_of_time:
                stopped = "time budget"
                break
    finally:
        pool.shutdown(wait=True)
        for sig, handler in previous.items():
            try:
                signal.signal(sig, handler)
            except (ValueError, TypeError):
                pass
    result = {"out": str(out), "stopped": stopped, "history": state["history"], "best_epoch": state["best_epoch"]}
    if best_path.is_file():
        result["best"] = finalize(best_path, data, out, eval_flip=cfg.eval_flip, history=state["history"],
                                  keras=keras)
    return result


def finalize(best_path: Path, data: Prepared, out: Path, eval_flip: bool, history: list, keras) -> dict:
    """Score the best checkpoint on val, write metrics.json, confusion.png and curves.png; return the metrics."""
    model = keras.models.load_model(best_path)
    probs = predict_probs(model, data.val_x, flip=eval_flip)
    rep = classification_report(data.val_y.argmax(1), probs.argmax(1), data.classes)
    rep.update({"split": "val", "data": data.meta.get("data"), "label_source": data.meta.get("label_source"),
                "eval_flip": eval_flip, "checkpoint": best_path.name})
    if not eval_flip:  # also record what test-time flip would give
        flip_rep = classification_report(data.val_y.argmax(1), predict_probs(model, data.val_x, flip=True).argmax(1),
                                         data.classes)
        rep["with_flip"] = {"accuracy": flip_rep["accuracy"], "macro_f1": flip_rep["macro_f1"]}
    _write_json(out / "metrics.json", rep)
    save_plots(history, rep, out)
    return rep


def save_plots(history: list, report: dict, out: Path) -> None:
    """Write ``curves.png`` (loss, accuracy, macro-F1, learning rate per epoch) and ``confusion.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if history:
        epochs = [h["epoch"] for h in history]
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
        axes[0].plot(epochs, [h["train_loss"] for h in history], label="train (augmented)")
        axes[0].plot(epochs, [h["val_loss"] for h in history], label="val")
        axes[0].set_title("loss")
        axes[1].plot(epochs, [h["train_acc"] for h in history], label="train acc (augmented)")
        axes[1].plot(epochs, [h["val_acc"] for h in history], label="val acc")
        axes[1].plot(epochs, [h["val_macro_f1"] for h in history], label="val macro-F1")
        axes[1].set_title("accuracy / macro-F1")
        axes[2].plot(epochs, [h["lr"] for h in history])
        axes[2].set_title("learning rate (end of epoch)")
        for ax in axes:
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
        axes[0].legend()
        axes[1].legend()
        fig.tight_layout()
        fig.savefig(out / "curves.png", dpi=110)
        plt.close(fig)
    cm = np.asarray(report["confusion"], np.float64)
    labels = report["labels"]
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{int(cm[i, j])}\n{norm[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"val: accuracy {report['accuracy']:.3f}, macro-F1 {report['macro_f1']:.3f}")
    fig.tight_layout()
    fig.savefig(out / "confusion.png", dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- CLI

def _parse(argv):
    p = argparse.ArgumentParser(prog="python -m train.fit", description=__doc__.splitlines()[0])
    p.add_argument("--config", default="configs/default.toml", help="TOML recipe (default configs/default.toml)")
    p.add_argument("--data", help="prepared-data folder (overrides the config)")
    p.add_argument("--out", help="run folder (overrides the config)")
    p.add_argument("--epochs", type=int, help="override the config's epochs")
    p.add_argument("--batch-size", type=int, dest="batch_size", help="override the config's batch size")
    p.add_argument("--max-minutes", type=float, dest="max_minutes", help="wall-clock budget (0 = none)")
    p.add_argument("--backend", choices=["tensorflow", "torch", "jax"], help="Keras backend (overrides the config)")
    p.add_argument("--resume", action="store_true", help="go on from OUT/last.keras")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = _parse(argv)
    overrides = {k: getattr(args, k) for k in ("data", "out", "epochs", "batch_size", "max_minutes", "backend")}
    try:
        cfg = load_config(args.config, overrides)
        data = load_data(cfg)
    except (FileNotFoundError, ValueError, FitError) as exc:
        print(f"train.fit: {exc}", file=sys.stderr)
        return 2
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.table import Table

    console = Console(stderr=True)
    console.print(f"[bold]{cfg.name}[/]: {len(data.train_x)} train / {len(data.val_x)} val images "
                  f"{data.train_x.shape[1:]} {data.classes}; backend {cfg.backend}; out {cfg.out}")
    progress = Progress(TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("loss {task.fields[loss]:.3f} acc {task.fields[acc]:.3f} lr {task.fields[lr]:.2e}"),
                        TimeElapsedColumn(), TimeRemainingColumn(), console=console)
    task = {}

    def start(epoch, steps):
        task["id"] = progress.add_task("", total=steps, epoch=epoch, loss=0.0, acc=0.0, lr=0.0)

    def step(epoch, i, logs):
        progress.update(task["id"], completed=i, **logs)

    def end(epoch, rec):
        progress.console.print(f"epoch {epoch}: val acc {rec['val_acc']:.4f}  macro-F1 {rec['val_macro_f1']:.4f}  "
                               f"val loss {rec['val_loss']:.3f}  {rec['img_per_s']:.0f} img/s  "
                               f"{rec['elapsed_s'] / 60:.1f} min")

    try:
        with progress:
            result = fit(cfg, resume=args.resume, data=data, on_epoch_start=start, on_step=step, on_epoch_end=end)
    except FitError as exc:
        print(f"train.fit: {exc}", file=sys.stderr)
        return 2
    best = result.get("best")
    console.print(f"stopped: {result['stopped']}; best epoch {result['best_epoch']}; run folder {result['out']}")
    if best:
        table = Table(title=f"best checkpoint on val: accuracy {best['accuracy']:.4f}, macro-F1 {best['macro_f1']:.4f}")
        for col in ("class", "precision", "recall", "f1", "support"):
            table.add_column(col)
        for label, s in best["per_class"].items():
            table.add_row(label, f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}", str(s["support"]))
        console.print(table)
    return 130 if result["stopped"] == "interrupted" else 0


if __name__ == "__main__":
    sys.exit(main())
