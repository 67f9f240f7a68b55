"""nn — networks built from the autograd engines: scalar Neuron/Layer/MLP and tensor Linear/Sequential."""
from . import data, functional, optim
from .conv_layers import Conv2d, Dropout2d, Flatten
from .embedding import Embedding
from .layers import Dropout, Linear, ModuleDict, ModuleList, ReLU, Sequential, Sigmoid, Tanh
from .module import Module, zero_grads
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .pool_layers import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, MaxUnpool2d
from .scalar import MLP, Layer, Neuron
from .serialization import load, save

__all__ = ["MLP", "AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "Dropout", "Dropout2d", "Embedding", "Flatten", "Layer", "LayerNorm", "Linear", "MaxPool2d", "MaxUnpool2d", "Module", "ModuleDict", "ModuleList", "Neuron", "ReLU", "Sequential", "Sigmoid", "Tanh", "data", "functional", "load", "optim", "save", "zero_grads"]
