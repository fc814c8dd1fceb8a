"""``numbax.errors`` (≈ ``jax.errors``)."""

from numbax._src.core import JaxprTypeError as JaxprTypeError  # noqa: F401
from numbax._src.errors import (  # noqa: F401
    ConcretizationTypeError as ConcretizationTypeError,
    NonConcreteBooleanIndexError as NonConcreteBooleanIndexError,
    NumbaxTypeError as NumbaxTypeError,
    TracerArrayConversionError as TracerArrayConversionError,
    TracerBoolConversionError as TracerBoolConversionError,
    TracerIntegerConversionError as TracerIntegerConversionError,
    UnexpectedTracerError as UnexpectedTracerError,
)
