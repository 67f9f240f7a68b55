"""nn — networks built from the autograd engines: scalar Neuron/Layer/MLP and tensor Linear/Sequential."""
from . import data, functional, optim
from .conv_layers import Conv2d, Flatten, MaxPool2d
from .layers import Dropout, Linear, ModuleDict, ModuleList, ReLU, Sequential, Sigmoid, Tanh
from .module import Module, zero_grads
from .scalar import MLP, Layer, Neuron
from .serialization import load, save

__all__ = ["MLP", "Conv2d", "Dropout", "Flatten", "Layer", "Linear", "MaxPool2d", "Module", "ModuleDict", "ModuleList", "Neuron", "ReLU", "Sequential", "Sigmoid", "Tanh", "data", "functional", "load", "optim", "save", "zero_grads"]
