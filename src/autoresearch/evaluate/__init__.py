"""The evaluation core: the steps eval.py calls (the parent), the confined training process (the child).

eval.py imports what it needs from here; train.py imports `Budget` and `TrainData` (for its type hints).
Importing this package is cheap: each name is loaded on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autoresearch.evaluate.budget import Budget, Profile
    from autoresearch.evaluate.child import TrainData
    from autoresearch.evaluate.parent import Crash, RemoteModel, Run, Trial, start
    from autoresearch.evaluate.samplers import Examples, Windows
    from autoresearch.metric import Metric

_WHERE = {
    "Budget": "budget",
    "Profile": "budget",
    "TrainData": "child",
    "Crash": "parent",
    "RemoteModel": "parent",
    "Run": "parent",
    "Trial": "parent",
    "start": "parent",
    "Examples": "samplers",
    "Windows": "samplers",
}
__all__ = [
    "Budget",
    "Crash",
    "Examples",
    "Metric",
    "Profile",
    "RemoteModel",
    "Run",
    "TrainData",
    "Trial",
    "Windows",
    "start",
]


def __getattr__(name: str) -> Any:
    if name == "Metric":
        from autoresearch.metric import Metric

        return Metric
    if name in _WHERE:
        return getattr(import_module(f"autoresearch.evaluate.{_WHERE[name]}"), name)
    raise AttributeError(name)
