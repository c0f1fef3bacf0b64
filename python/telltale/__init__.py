"""Telltale: keyed LLM watermarking with exact detection statistics.

The native engine lives in the private extension ``telltale._core``; this
package re-exports it with the Python-side helpers.

>>> import numpy as np, telltale
>>> key = telltale.Key.generate()
>>> wm = telltale.Watermarker(key, "kgw:gamma=0.25,delta=2")
>>> logits = np.zeros(64, dtype=np.float32)
>>> wm.apply([3], logits) is logits
True
>>> telltale.Detector(key, "kgw:gamma=0.25").score([3, 7, 9]).tokens
3
"""

from telltale import _core
from telltale._core import (  # noqa: F401  (re-exports)
    Attribution,
    CancelledError,
    DataLossError,
    Detection,
    Detector,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    Key,
    NotFoundError,
    OutOfRangeError,
    PermissionDeniedError,
    Sampler,
    Scheme,
    TelltaleError,
    UnavailableError,
    UnimplementedError,
    Watermarker,
    WindowMatch,
    attribute,
)

__version__ = "0.1.0"

__all__ = [
    "Attribution",
    "CancelledError",
    "DataLossError",
    "Detection",
    "Detector",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "Key",
    "NotFoundError",
    "OutOfRangeError",
    "PermissionDeniedError",
    "Sampler",
    "Scheme",
    "TelltaleError",
    "UnavailableError",
    "UnimplementedError",
    "Watermarker",
    "WindowMatch",
    "attribute",
]

try:  # bound when the tokenize component is part of the build
    from telltale._core import Tokenizer  # noqa: F401

    __all__.append("Tokenizer")
except ImportError:  # pragma: no cover
    pass

if hasattr(_core, "_scan"):  # bound when the scan component is part of the build
    from telltale.scanning import scan  # noqa: F401

    __all__.append("scan")
