"""nn — networks built from the autograd engines: scalar Neuron/Layer/MLP and tensor Linear/Sequential."""
from . import functional, optim
from .layers import Dropout, Linear, ReLU, Sequential, Sigmoid, Tanh
from .module import Module, zero_grads
from .scalar import MLP, Layer, Neuron
from .serialization import load, save

__all__ = ["Module", "zero_grads", "save", "load", "Linear", "ReLU", "Tanh", "Sigmoid", "Dropout", "Sequential", "functional", "optim", "Neuron", "Layer", "MLP"]
