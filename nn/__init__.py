"""nn — networks built from the autograd engines: scalar Neuron/Layer/MLP and tensor Linear/Sequential."""
from . import data, functional, optim
from .layers import Dropout, Linear, ReLU, Sequential, Sigmoid, Tanh
from .module import Module, zero_grads
from .scalar import MLP, Layer, Neuron
from .serialization import load, save

__all__ = ["MLP", "Dropout", "Layer", "Linear", "Module", "Neuron", "ReLU", "Sequential", "Sigmoid", "Tanh", "data", "functional", "load", "optim", "save", "zero_grads"]
