"""PyTorch's dtype names, as NumPy dtypes: ``autograd.float32``, ``autograd.long``, ... so that
``torch.zeros(3, dtype=torch.long)`` reads the same with ``import autograd as torch``.

A file of its own because ``float``, ``int``, ``bool`` and ``double`` are names Python already uses: here they
mean dtypes (as ``torch.float`` does), and nothing in this file needs the builtins.
"""
from __future__ import annotations

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)  # torch.float is float32
float64 = double = np.dtype(np.float64)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)  # torch.int is int32
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)

__all__ = ["bool", "double", "float", "float16", "float32", "float64", "half", "int", "int8", "int16", "int32",
           "int64", "long", "short", "uint8"]
