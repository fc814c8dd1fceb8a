"""Numba kernels that generated CPU programs call for convolutions and linear
algebra (re-exported by ``cpu_runtime``, so programs call them as ``rt.<name>``).

Convolutions work on one canonical layout with three spatial axes (fewer
spatial axes are padded with size-1 ones by the lowering rule):

- ``x``:   ``(N, D1, D2, D3, C)``  input, channels last;
- ``w``:   ``(K1, K2, K3, I, O)``  kernel, ``I = C / feature_groups``;
- ``out``: ``(N', P1, P2, P3, O)`` with ``N' = N / batch_groups``.

Output position ``p`` and tap ``k`` of one spatial axis read the padded,
input-dilated input at ``q = p * stride + k * rhs_dilation - low``; it holds
an input element iff ``q % lhs_dilation == 0`` and ``0 <= q // lhs_dilation <
D``, else a zero of the padding or of the dilation. No padded copy is made.

Linear algebra kernels take a stack of matrices ``(B, m, n)`` and loop over
its first axis.
"""

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


# --- convolution -------------------------------------------------------------------------

@_jit
def _source(p, k, stride, rd, low, ld, size):
    """Input index read by output position ``p`` at tap ``k`` of one axis, or -1."""
    q = p * stride + k * rd - low
    if q < 0:
        return -1
    if ld == 1:  # skip the integer division of the common case
        return q if q < size else -1
    if q % ld != 0:
        return -1
    i = q // ld
    return i if i < size else -1


@_jit
def conv_direct(x, w, out, strides, low, ld, rd, feature_groups, batch_groups):
    """``out`` = the convolution, as a loop nest (any dtype; accumulates in
    ``out``'s dtype); the innermost loop runs over contiguous output features.

    Serial: a ``prange`` over the batch was 1.1-8x SLOWER than this loop on
    the 2-core machine under the other agents' load (e.g. W7's first conv,
    64x28x28x1 -> 32: 11.8 ms parallel, 2.6 ms serial)."""
    n_out, p1, p2, p3, o_total = out.shape
    k1, k2, k3, cg, _ = w.shape
    d1, d2, d3 = x.shape[1], x.shape[2], x.shape[3]
    groups = feature_groups * batch_groups
    og = o_total // groups
    for n in range(n_out):
        acc = np.empty(og, out.dtype)
        for g in range(groups):
            xn = n + (g * n_out if batch_groups > 1 else 0)
            c0 = g * cg if feature_groups > 1 else 0
            o0 = g * og
            for a in range(p1):
                for b in range(p2):
                    for c in range(p3):
                        acc[:] = 0
                        for t1 in range(k1):
                            i1 = _source(a, t1, strides[0], rd[0], low[0], ld[0], d1)
                            if i1 < 0:
                                continue
                            for t2 in range(k2):
                                i2 = _source(b, t2, strides[1], rd[1], low[1], ld[1], d2)
                                if i2 < 0:
                                    continue
                                for t3 in range(k3):
                                    i3 = _source(c, t3, strides[2], rd[2], low[2], ld[2], d3)
                                    if i3 < 0:
                                        continue
                                    for ch in range(cg):
                                        xv = x[xn, i1, i2, i3, c0 + ch]
                                        for o in range(og):
                                            acc[o] += xv * w[t1, t2, t3, ch, o0 + o]
                        for o in range(og):
                            out[n, a, b, c, o0 + o] = acc[o]


@_jit
def _phase_taps(phase, taps, stride, rd, low, ld):
    """The taps of one axis that land on input elements (not on dilation
    holes) for output positions ``p = phase + j * ld``: ``(p * stride + k *
    rd - low) % ld`` depends on ``p`` only through ``phase``."""
    found = np.empty(taps, np.int64)
    count = 0
    for k in range(taps):
        if (phase * stride + k * rd - low) % ld == 0:
            found[count] = k
            count += 1
    return found[:count]


@_jit
def conv_gemm(x, w, out, strides, low, ld, rd, feature_groups, batch_groups):
    """``out`` = the convolution as im2col + one BLAS GEMM per group and output
    phase (floats only). With input dilation the output positions split into
    ``prod(ld)`` phases, each of which meets a fixed subset of the taps: the
    columns hold only those, not the zeros of the dilation holes.

    The gathers are serial loops (a ``prange`` made them ~10x slower under
    load); BLAS runs the GEMM on its own threads."""
    n_out, p1, p2, p3, o_total = out.shape
    k1, k2, k3, cg, _ = w.shape
    groups = feature_groups * batch_groups
    og = o_total // groups
    d1, d2, d3 = x.shape[1], x.shape[2], x.shape[3]
    for g in range(groups):
        xn0 = g * n_out if batch_groups > 1 else 0
        c0 = g * cg if feature_groups > 1 else 0
        o0 = g * og
        for f1 in range(min(ld[0], p1)):
            m1 = (p1 - f1 + ld[0] - 1) // ld[0]
            taps1 = _phase_taps(f1, k1, strides[0], rd[0], low[0], ld[0])
            for f2 in range(min(ld[1], p2)):
                m2 = (p2 - f2 + ld[1] - 1) // ld[1]
                taps2 = _phase_taps(f2, k2, strides[1], rd[1], low[1], ld[1])
                for f3 in range(min(ld[2], p3)):
                    m3 = (p3 - f3 + ld[2] - 1) // ld[2]
                    taps3 = _phase_taps(f3, k3, strides[2], rd[2], low[2], ld[2])
                    ntaps = taps1.shape[0] * taps2.shape[0] * taps3.shape[0]
                    rows = n_out * m1 * m2 * m3
                    kc = ntaps * cg
                    whole = groups == 1 and ntaps == k1 * k2 * k3 and ld[0] == 1 and ld[1] == 1 and ld[2] == 1
                    if kc == 0:
                        wmat = np.zeros((1, og), out.dtype)
                    elif whole:
                        wmat = w.reshape((kc, og))
                    else:
                        wmat = np.empty((kc, og), out.dtype)
                        r = 0
                        for a in taps1:
                            for b in taps2:
                                for c in taps3:
                                    for ch in range(cg):
                                        wmat[r, :] = w[a, b, c, ch, o0:o0 + og]
                                        r += 1
                    cols = np.empty((rows, max(kc, 1)), out.dtype)
                    if kc == 0:
                        cols[:] = 0
                    for n in range(n_out):
                        for j1 in range(m1):
                            q1 = f1 + j1 * ld[0]
                            for j2 in range(m2):
                                q2 = f2 + j2 * ld[1]
                                for j3 in range(m3):
                                    q3 = f3 + j3 * ld[2]
                                    row = ((n * m1 + j1) * m2 + j2) * m3 + j3
                                    col = 0
                                    for a in taps1:
                                        i1 = _source(q1, a, strides[0], rd[0], low[0], ld[0], d1)
                                        for b in taps2:
                                            i2 = _source(q2, b, strides[1], rd[1], low[1], ld[1], d2)
                                            for c in taps3:
                                                i3 = _source(q3, c, strides[2], rd[2], low[2], ld[2], d3)
                                                if i1 >= 0 and i2 >= 0 and i3 >= 0:
                                                    for ch in range(cg):
                                                        cols[row, col + ch] = x[xn0 + n, i1, i2, i3, c0 + ch]
                                                else:
                                                    for ch in range(cg):
                                                        cols[row, col + ch] = 0
                                                col += cg
                    if whole:
                        np.dot(cols, wmat, out.reshape((rows, o_total)))
                        continue
                    res = np.dot(cols, wmat)
                    for n in range(n_out):
                        for j1 in range(m1):
                            for j2 in range(m2):
                                for j3 in range(m3):
                                    row = ((n * m1 + j1) * m2 + j2) * m3 + j3
                                    out[n, f1 + j1 * ld[0], f2 + j2 * ld[1], f3 + j3 * ld[2], o0:o0 + og] = res[row]
