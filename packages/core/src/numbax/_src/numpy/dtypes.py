"""Dtype objects and helpers exported by ``numbax.numpy``."""

import numpy as np

from .. import dtypes as _dtypes

bool_ = np.bool_
int8, int16, int32, int64 = np.int8, np.int16, np.int32, np.int64
uint8, uint16, uint32, uint64 = np.uint8, np.uint16, np.uint32, np.uint64
float16, float32, float64 = np.float16, np.float32, np.float64
dtype = np.dtype
generic, number, integer, signedinteger, unsignedinteger, floating, inexact = (
    np.generic, np.number, np.integer, np.signedinteger, np.unsignedinteger, np.floating, np.inexact)
pi, e, inf, nan, euler_gamma = np.pi, np.e, np.inf, np.nan, np.euler_gamma
newaxis = None
finfo = _dtypes.finfo
iinfo = _dtypes.iinfo
result_type = _dtypes.result_type
promote_types = _dtypes.promote_types


def issubdtype(arg1, arg2):
    """``np.issubdtype`` (numbax has no extended dtypes yet)."""
    return np.issubdtype(arg1, arg2)


def can_cast(from_, to, casting="safe"):
    """``np.can_cast`` on dtypes."""
    return np.can_cast(getattr(from_, "dtype", from_), to, casting)


__all__ = ["bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "float32", "float64", "dtype", "generic", "number", "integer", "signedinteger",
           "unsignedinteger", "floating", "inexact", "pi", "e", "inf", "nan", "euler_gamma", "newaxis",
           "finfo", "iinfo", "result_type", "promote_types", "issubdtype", "can_cast"]
