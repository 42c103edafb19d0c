"""Expression-classifier architectures (backend-agnostic Keras 3).

Every builder returns a ``keras.Model`` that maps a float32 NHWC batch
``(n, H, W, C)`` (pixels already scaled to [0, 1], grey or BGR as the prepared
data says) to **logits** ``(n, K)``.  Softmax and test-time flip averaging are
added only at export time (``inference_model``), so training can use a
from-logits loss with label smoothing and mixup.

Only stock Keras layers are used, so a model trained on the PyTorch backend can
be saved (``.keras``) and re-loaded under the TensorFlow backend for ONNX export.

Keras is imported lazily inside the functions so ``import train.model`` is light.
"""

from __future__ import annotations

ARCHITECTURES = ("resnet", "vgg", "separable")


def _conv_bn_relu(x, filters: int, name: str, kernel: int = 3, strides: int = 1):
    from keras import layers

    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _residual_block(x, filters: int, name: str):
    """Basic residual block: 3x3-BN-ReLU-3x3-BN (+ 1x1 projection when channels change), ReLU."""
    from keras import layers

    shortcut = x
    y = _conv_bn_relu(x, filters, f"{name}_a")
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_b_conv")(y)
    y = layers.BatchNormalization(name=f"{name}_b_bn")(y)
    if shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_proj_conv")(shortcut)
        shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.ReLU(name=f"{name}_out")(y)


def build_model(arch: str, input_shape: tuple[int, int, int], n_classes: int, widths=(32, 64, 128, 256),
                blocks=(1, 1, 1), dropout: float = 0.3, name: str = "fer"):
    """Build an expression CNN that returns logits.

    Args:
        arch: ``resnet`` (stem conv at full resolution, then one residual stage per
            width after a 2x2 max-pool), ``vgg`` (two plain conv-BN-ReLU per stage),
            or ``separable`` (depthwise-separable stages, the cheapest).
        input_shape: (H, W, C) of the prepared data, e.g. (48, 48, 1) or (96, 96, 3).
        n_classes: K, the number of labels.
        widths: stem width followed by one width per stage.
        blocks: residual blocks per stage (``resnet`` only), len == len(widths) - 1.
        dropout: dropout rate before the classifier.

    Returns:
        keras.Model: (n, H, W, C) float32 -> (n, K) float32 logits.
    """
    import keras
    from keras import layers

    if arch not in ARCHITECTURES:
        raise ValueError(f"arch: expected one of {ARCHITECTURES}, got {arch!r}")
    widths = tuple(int(w) for w in widths)
    inputs = keras.Input(shape=tuple(input_shape), name="input")
    x = _conv_bn_relu(inputs, widths[0], "stem")
    if input_shape[0] >= 96:  # the paper's 96x96 input: halve once more so the stages see 48x48
        x = layers.MaxPooling2D(2, name="stem_pool")(x)
    for stage, filters in enumerate(widths[1:]):
        x = layers.MaxPooling2D(2, name=f"s{stage}_pool")(x)
        if arch == "resnet":
            n_blocks = blocks[stage] if stage < len(blocks) else 1
            for b in range(n_blocks):
                x = _residual_block(x, filters, f"s{stage}b{b}")
        elif arch == "vgg":
            x = _conv_bn_relu(x, filters, f"s{stage}a")
            x = _conv_bn_relu(x, filters, f"s{stage}b")
        else:
            for part in ("a", "b"):
                x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=f"s{stage}{part}_sep")(x)
                x = layers.BatchNormalization(name=f"s{stage}{part}_bn")(x)
                x = layers.ReLU(name=f"s{stage}{part}_relu")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    if dropout > 0:
        x = layers.Dropout(dropout, name="dropout")(x)
    logits = layers.Dense(n_classes, name="logits")(x)
    return keras.Model(inputs, logits, name=name)


def inference_model(model, flip: bool = True):
    """Wrap a logits model for deployment: softmax, optionally averaged with the horizontally flipped input.

    Args:
        model: a ``build_model`` network, (n, H, W, C) -> (n, K) logits.
        flip: average softmax(model(x)) and softmax(model(x flipped left-right)).

    Returns:
        keras.Model: (n, H, W, C) float32 -> (n, K) float32 probabilities (rows sum to 1).
    """
    import keras
    from keras import layers, ops

    inputs = keras.Input(shape=model.input_shape[1:], name="input")
    probs = layers.Softmax(name="softmax")(model(inputs))
    if flip:
        flipped = layers.Lambda(lambda t: ops.flip(t, axis=2), name="hflip")(inputs)
        probs_f = layers.Softmax(name="softmax_flip")(model(flipped))
        probs = layers.Average(name="probs")([probs, probs_f])
    return keras.Model(inputs, probs, name=f"{model.name}_inference")


def count_macs(model) -> int:
    """Multiply-accumulates of one forward pass (conv, separable conv and dense layers only)."""
    from keras import layers

    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.SeparableConv2D):
            _, h, w, c_out = layer.output.shape
            c_in = layer.input.shape[-1]
            kh, kw = layer.kernel_size
            total += h * w * c_in * kh * kw + h * w * c_in * c_out
        elif isinstance(layer, layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            c_in = layer.input.shape[-1]
            kh, kw = layer.kernel_size
            total += h * w * c_in * c_out * kh * kw
        elif isinstance(layer, layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return int(total)
