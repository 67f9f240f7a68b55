"""nn — networks built from the autograd engines: scalar Neuron/Layer/MLP and tensor Linear/Sequential."""
import sys as _sys


def _interrupted_while_starting() -> None:
    """Ctrl-C while ``python -m nn.train`` (or ``nn.moons``) is still loading: one line and exit 130, as once it
    runs, rather than a traceback through the imports. (While ``-m`` locates a module, sys.argv[0] is "-m".)
    Imported as a library, the KeyboardInterrupt is left alone."""
    if _sys.argv[:1] == ["-m"]:
        _sys.stderr.write("interrupted while starting; nothing was done\n")
        raise SystemExit(130)


try:
    from . import data, functional, optim
    from .conv_layers import Conv2d, Dropout2d, Flatten
    from .embedding import Embedding
    from .layers import Dropout, Linear, ModuleDict, ModuleList, ReLU, Sequential, Sigmoid, Tanh
    from .module import Module, zero_grads
    from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
    from .pool_layers import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, MaxUnpool2d
    from .scalar import MLP, Layer, Neuron
    from .serialization import load, save
except KeyboardInterrupt:
    _interrupted_while_starting()
    raise

__all__ = ["MLP", "AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "Dropout", "Dropout2d",
           "Embedding", "Flatten", "Layer", "LayerNorm", "Linear", "LiveView", "MaxPool2d", "MaxUnpool2d", "Module",
           "ModuleDict", "ModuleList", "Neuron", "ReLU", "Sequential", "Sigmoid", "Tanh", "data", "functional", "load",
           "optim", "plot_decision_boundary", "save", "train", "zero_grads"]


# Imported on first use, so `import nn` stays fast: the training application (`nn.train(...)` runs it; it brings
# tqdm), the live training view and decision boundaries (their pictures, gradient flow, matplotlib when drawing).
_LAZY = {"train": ("train", None), "LiveView": ("live", "LiveView"),
         "plot_decision_boundary": ("boundary", "plot_decision_boundary")}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module_name, attribute = _LAZY[name]
    module = importlib.import_module(f".{module_name}", __name__)
    return module if attribute is None else getattr(module, attribute)
