"""What does this graph look like? Pictures and walk-throughs of a graph and its backward pass.

``draw_dot`` (the graph, with gradients and local derivatives, drawn within a budget of layout cost and readable
text, rendered by Graphviz with a time limit), ``explain`` (the chain rule at one node, with its numbers),
``backward_steps`` (the backward pass one edge at a time), ``step_through`` and ``save_animation`` (the same as a
slider), ``save_html`` (a picture as a page that zooms, pans and explains a clicked value). Each has a plain-text
face for a terminal and an HTML/SVG face for Jupyter; none can hang a notebook.
"""
from .draw import draw_dot
from .explain import Explanation, explain

__all__ = ["Explanation", "draw_dot", "explain"]
