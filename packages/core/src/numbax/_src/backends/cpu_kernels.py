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

from .blas import matmul

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")
_pjit = numba.njit(cache=True, nogil=True, error_model="numpy", parallel=True)


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


@_pjit
def conv_direct(x, w, out, strides, low, ld, rd, feature_groups, batch_groups):
    """``out`` = the convolution, as a loop nest (any dtype; accumulates in
    ``out``'s dtype); the innermost loop runs over contiguous output features.

    Parallel over the output batch: about 2x faster than serial on the 2-core
    machine when it is quiet (W7's conv2 input gradient: 11.9 vs 23.5 ms),
    though slower when other processes hold the cores (load 5: 36 vs 30 ms)."""
    n_out, p1, p2, p3, o_total = out.shape
    k1, k2, k3, cg, _ = w.shape
    d1, d2, d3 = x.shape[1], x.shape[2], x.shape[3]
    groups = feature_groups * batch_groups
    og = o_total // groups
    for n in numba.prange(n_out):
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
def conv_gemm(x, w, out, strides, low, ld, rd, feature_groups, batch_groups, pool):
    """``out`` = the convolution as im2col + one BLAS GEMM per group and output
    phase (floats only). With input dilation the output positions split into
    ``prod(ld)`` phases, each of which meets a fixed subset of the taps: the
    columns hold only those, not the zeros of the dilation holes.

    The gathers are serial loops (a ``prange`` made them ~10x slower under
    load); BLAS (NumPy's, ``blas.matmul``) runs the GEMM, on its thread pool
    when ``pool``."""
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
                        matmul(cols, wmat, out.reshape((rows, o_total)), pool)
                        continue
                    res = np.empty((rows, og), out.dtype)
                    matmul(cols, wmat, res, pool)
                    for n in range(n_out):
                        for j1 in range(m1):
                            for j2 in range(m2):
                                for j3 in range(m3):
                                    row = ((n * m1 + j1) * m2 + j2) * m3 + j3
                                    out[n, f1 + j1 * ld[0], f2 + j2 * ld[1], f3 + j3 * ld[2], o0:o0 + og] = res[row]


# --- linear algebra ------------------------------------------------------------------------
# numba's np.linalg calls the same LAPACK routines as NumPy's (potrf, syevd,
# gesdd, geqrf+orgqr); a matrix on which one fails (numba raises LinAlgError,
# also for infs and NaNs in the input) gets NaNs, as the eager impls give.

@_jit
def cholesky_batched(x):
    """Lower Cholesky factors of ``x`` ``(B, n, n)`` (its lower triangle is
    read); NaN on and below the diagonal where a matrix is not positive definite."""
    out = np.zeros_like(x)
    n = x.shape[1]
    for b in range(x.shape[0]):
        try:
            out[b] = np.linalg.cholesky(x[b])
        except Exception:  # noqa: BLE001  (numba catches only Exception)
            for i in range(n):
                for j in range(i + 1):
                    out[b, i, j] = np.nan
    return out


@_jit
def triangular_solve_left(a, rhs, lower, transpose_a, unit_diagonal):
    """``x`` with ``op(a) @ x = rhs`` for ``a`` ``(B, m, m)`` triangular and
    ``rhs`` ``(B, m, n)``; ``op(a) = a.T`` when ``transpose_a``. Only the
    triangle named by ``lower`` is read (not the diagonal when
    ``unit_diagonal``). Substitution row by row, each row update a
    contiguous loop over the ``n`` columns. No singularity check (a zero
    pivot gives inf/NaN, as BLAS trsm)."""
    batch, m, n = rhs.shape
    x = np.empty_like(rhs)
    forward = lower != transpose_a  # op(a) is lower triangular
    for b in range(batch):
        for step in range(m):
            i = step if forward else m - 1 - step
            x[b, i, :] = rhs[b, i, :]
            first, last = (0, i) if forward else (i + 1, m)
            for j in range(first, last):
                t = a[b, j, i] if transpose_a else a[b, i, j]
                for c in range(n):
                    x[b, i, c] -= t * x[b, j, c]
            if not unit_diagonal:
                d = a[b, i, i]
                for c in range(n):
                    x[b, i, c] /= d
    return x


@_jit
def lu_batched(x):
    """LU with partial pivoting of ``x`` ``(B, m, n)``, as LAPACK getrf:
    ``(lu, pivots (B, min(m, n)), permutation (B, m))``, int32 indices, the
    first largest magnitude as pivot; a zero pivot column is left as is."""
    batch, m, n = x.shape
    k = min(m, n)
    lu = x.copy()
    pivots = np.empty((batch, k), np.int32)
    perm = np.empty((batch, m), np.int32)
    for b in range(batch):
        a = lu[b]
        for i in range(m):
            perm[b, i] = i
        for j in range(k):
            p, best = j, abs(a[j, j])
            for r in range(j + 1, m):
                if abs(a[r, j]) > best:
                    p, best = r, abs(a[r, j])
            pivots[b, j] = p
            if p != j:
                for c in range(n):
                    a[j, c], a[p, c] = a[p, c], a[j, c]
                perm[b, j], perm[b, p] = perm[b, p], perm[b, j]
            if a[j, j] != 0:
                for r in range(j + 1, m):
                    a[r, j] /= a[j, j]
            for r in range(j + 1, m):
                f = a[r, j]
                for c in range(j + 1, n):
                    a[r, c] -= f * a[j, c]
    return lu, pivots, perm


@_jit
def qr_batched(x, full_matrices):
    """``(q, r)`` of ``x`` ``(B, m, n)``: ``q`` ``(B, m, m)`` and ``r`` ``(B,
    m, n)`` when ``full_matrices``, else ``(B, m, k)`` and ``(B, k, n)``.
    numba's qr is the reduced one; the complete ``q`` of a tall matrix is the
    reduced ``q`` of ``[x | 0]`` (the zero columns get identity reflectors,
    so the Householder vectors are those of ``x``)."""
    batch, m, n = x.shape
    k = m if full_matrices else min(m, n)
    q = np.empty((batch, m, k), x.dtype)
    r = np.empty((batch, k, n), x.dtype)
    for b in range(batch):
        if full_matrices and m > n:
            wide = np.zeros((m, m), x.dtype)
            wide[:, :n] = x[b]
            qb, rb = np.linalg.qr(wide)
            q[b] = qb
            r[b] = rb[:, :n]
        else:
            qb, rb = np.linalg.qr(x[b])
            q[b] = qb
            r[b] = rb
    return q, r


@_jit
def eigh_batched(x, lower):
    """``(v (B, n, n), w (B, n))`` of symmetric ``x`` ``(B, n, n)``, eigenvalues
    ascending; only the ``lower`` (else upper) triangle is read."""
    batch, n, _ = x.shape
    v = np.empty_like(x)
    w = np.empty((batch, n), x.dtype)
    for b in range(batch):
        # numba's eigh reads the lower triangle: the upper one is a.T's lower.
        a = x[b] if lower else np.ascontiguousarray(x[b].T)
        try:
            wb, vb = np.linalg.eigh(a)
            w[b] = wb
            v[b] = vb
        except Exception:  # noqa: BLE001
            w[b] = np.nan
            v[b] = np.nan
    return v, w


@_jit
def svd_batched(x, full_matrices):
    """``(s (B, k), u, vt)`` of ``x`` ``(B, m, n)``, singular values descending;
    ``u`` ``(B, m, m)`` and ``vt`` ``(B, n, n)`` when ``full_matrices``, else
    ``(B, m, k)`` and ``(B, k, n)``."""
    batch, m, n = x.shape
    k = min(m, n)
    cols, rows = (m, n) if full_matrices else (k, k)
    s = np.empty((batch, k), x.dtype)
    u = np.empty((batch, m, cols), x.dtype)
    vt = np.empty((batch, rows, n), x.dtype)
    for b in range(batch):
        try:
            ub, sb, vb = np.linalg.svd(x[b], full_matrices=full_matrices)
            s[b] = sb
            u[b] = ub
            vt[b] = vb
        except Exception:  # noqa: BLE001
            s[b] = np.nan
            u[b] = np.nan
            vt[b] = np.nan
    return s, u, vt
