"""Package data (schemas/, templates/, data/) read through importlib.resources.

Reading through importlib.resources keeps an installed wheel working from any
directory, zipped or not.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable  # importlib.abc.Traversable goes in Python 3.14
from typing import Any


def package_dir(name: str) -> Traversable:
    """A top-level data folder shipped in the package: 'schemas', 'templates' or 'data'."""
    return resources.files("programkit").joinpath(name)


@lru_cache(maxsize=None)
def data_json(name: str) -> Any:
    """A JSON catalogue from programkit/data/, parsed once."""
    return json.loads(package_dir("data").joinpath(name).read_text(encoding="utf-8"))
