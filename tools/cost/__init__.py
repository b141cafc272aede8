"""Cost tools: price catalogs, usage sources, right-sizing, solver-backed node plans, savings that add up."""

from tools.cost.tools import build_tools

__all__ = ["build_tools"]
