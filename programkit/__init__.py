"""programkit: package, validate, import and export Marketo-style programs as bundles.

The library does the work; :mod:`programkit.cli` is a thin layer over it.

    >>> import programkit
    >>> result = programkit.validate_path("samples/op-lead-management")
    >>> result.ok
    True
"""

__version__ = "0.1.0"

from .errors import BadInput, ProgramkitError  # noqa: E402
from .findings import Finding, Severity  # noqa: E402
from .load import load_bundle  # noqa: E402
from .validate import ValidationResult, validate_bundle, validate_path  # noqa: E402

__all__ = [
    "__version__",
    "BadInput",
    "Finding",
    "ProgramkitError",
    "Severity",
    "ValidationResult",
    "load_bundle",
    "validate_bundle",
    "validate_path",
]
