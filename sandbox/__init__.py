"""A local Kubernetes API server for demos, tests and what-if runs (see docs/sandbox.md).

The rest of opsgraph reaches it only over HTTP, as it reaches a real cluster. Start one with
`opsgraph sandbox`, `python -m sandbox`, or `sandbox.process.SandboxProcess` from Python.
"""

__all__: list[str] = []
