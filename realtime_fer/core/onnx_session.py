"""The one place that creates ONNX Runtime sessions.

The execution provider is chosen once, by name, and reported back:

* ``auto``: TensorRT, then CUDA, when ONNX Runtime offers them, else CPU.
* ``cpu`` / ``cuda`` / ``tensorrt``: exactly that one; asking for a GPU provider
  that this ONNX Runtime build does not have raises ``ProviderError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import MissingDependencyError, ModelError, ProviderError

PROVIDERS = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
}
INSTALL_HINT = "pip install 'realtime-fer[cpu]' (or 'realtime-fer[gpu]' on an NVIDIA machine)"


def import_onnxruntime():
    """Import onnxruntime or raise MissingDependencyError with the install command."""
    try:
        import onnxruntime
    except ImportError:
        raise MissingDependencyError(f"onnxruntime: expected it installed, got ImportError; run {INSTALL_HINT}") from None
    return onnxruntime


def resolve_provider(requested: str = "auto") -> str:
    """Map a provider name (auto|cpu|cuda|tensorrt) to the ONNX Runtime provider that will run."""
    ort = import_onnxruntime()
    available = ort.get_available_providers()
    requested = requested.lower()
    if requested == "auto":
        for name in ("tensorrt", "cuda"):
            if PROVIDERS[name] in available:
                return PROVIDERS[name]
        return PROVIDERS["cpu"]
    if requested not in PROVIDERS:
        raise ProviderError(f"provider: expected one of auto, {', '.join(PROVIDERS)}, got {requested!r}; pick one of those")
    if PROVIDERS[requested] not in available:
        raise ProviderError(f"provider {requested}: expected {PROVIDERS[requested]} in this onnxruntime, got only "
                            f"{', '.join(available)}; install 'realtime-fer[gpu]' on a CUDA machine or use --provider cpu")
    return PROVIDERS[requested]


@dataclass
class Session:
    """An ONNX Runtime InferenceSession plus the provider that actually runs it."""

    session: object
    provider: str

    def run(self, output_names, feeds):
        return self.session.run(output_names, feeds)

    def inputs(self):
        return self.session.get_inputs()

    def outputs(self):
        return self.session.get_outputs()


def free_dimensions(model_path: str | Path) -> bytes:
    """The serialized model of ``model_path`` with every dimension of its graph inputs and outputs made symbolic
    (``d0``, ``d1``, ...), for graphs exported with one fixed input size that run at any size (CenterFace), and
    its weights no longer listed among the graph inputs.

    Raises:
        MissingDependencyError: the ``onnx`` package is missing; ModelError: not an ONNX file.
    """
    try:
        import onnx
    except ImportError:
        raise MissingDependencyError("onnx: expected it installed, got ImportError; run pip install 'onnx>=1.16'") from None
    try:
        model = onnx.load(str(model_path))
    except Exception as exc:  # onnx raises DecodeError and friends
        raise ModelError(f"{model_path}: expected an ONNX file, got a load error ({type(exc).__name__}); reinstall "
                         "realtime-fer to restore models/") from None
    initializers = {i.name for i in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in initializers]
    del model.graph.input[:]  # old exporters list the weights as inputs too, which blocks constant folding
    model.graph.input.extend(inputs)
    for value in list(model.graph.input) + list(model.graph.output):
        for k, dim in enumerate(value.type.tensor_type.shape.dim):
            dim.dim_param = f"d{k}"
    return model.SerializeToString()


def create_session(model_path: str | Path, provider: str = "auto", intra_op_threads: int = 0,
                   model_bytes: bytes | None = None) -> Session:
    """Open ``model_path`` with the resolved provider.

    Args:
        intra_op_threads: 0 lets ONNX Runtime choose; small models are often fastest with 1.
        model_bytes: the serialized model to run instead of the file's bytes (e.g. ``free_dimensions``);
            ``model_path`` then only names it in errors.

    Raises:
        ModelError: the file is not a loadable ONNX model.
        ProviderError: the requested provider is unavailable.
    """
    ort = import_onnxruntime()
    chosen = resolve_provider(provider)
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    chain = [chosen] if chosen == PROVIDERS["cpu"] else [chosen, PROVIDERS["cpu"]]
    try:
        session = ort.InferenceSession(model_bytes if model_bytes is not None else str(model_path), sess_options=options, providers=chain)
    except Exception as exc:  # onnxruntime raises several private exception types
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"model {model_path}: expected a valid ONNX file, got a load error ({first_line[:160]}); "
                         "re-export it with `python -m train.export` (or reinstall realtime-fer for a shipped "
                         "model)") from None
    return Session(session, session.get_providers()[0])
