"""What does this graph look like? Pictures and walk-throughs of a graph and its backward pass.

``draw_dot`` (the graph, with gradients and local derivatives), ``explain`` (the chain rule at one node, with its
numbers), ``backward_steps`` (the backward pass one edge at a time), ``step_through`` and ``save_animation`` (the
same as a slider). Each has a plain-text face for a terminal and an HTML/SVG face for Jupyter.
"""
from .draw import draw_dot
from .explain import Explanation, explain

__all__ = ["Explanation", "draw_dot", "explain"]
