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

from .blas import blas_threads, gemm

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
def _sources(positions, taps, stride, rd, low, size):
    """``_source`` of every output position and tap of one axis (no input
    dilation), as a table the gathers look up instead of recomputing."""
    table = np.empty((positions, taps), np.int64)
    for p in range(positions):
        for k in range(taps):
            table[p, k] = _source(p, k, stride, rd, low, 1, size)
    return table


@_jit
def _im2col(x, n, c0, cg, tables, cols, row0):
    """``cols[row0 + pos, (tap, ch)] = x[n, pos * strides + tap * rd - low, c0 +
    ch]`` for one image, zero where the window reads padding; ``tables``: the
    three axes' ``_sources``. Flat offsets: 5-d indexing or a ``_source`` call
    per tap cost as much as copying a 1-channel tap. A tap's channels are one
    slice copy when many (numba does not vectorize the element loop: 3.6 vs
    2.2 ms for W7's second conv), an element loop when few (a slice costs
    ~20 ns to set up)."""
    s1, s2, s3 = tables
    (p1, k1), (p2, k2), (p3, k3) = s1.shape, s2.shape, s3.shape
    _, d1, d2, d3, c = x.shape
    src = x.reshape(x.size)
    dst = cols.reshape(cols.size)
    width = cols.shape[1]
    for a in range(p1):
        for b in range(p2):
            for e in range(p3):
                at = (row0 + (a * p2 + b) * p3 + e) * width
                for t1 in range(k1):
                    i1 = s1[a, t1]
                    for t2 in range(k2):
                        i2 = s2[b, t2]
                        for t3 in range(k3):
                            i3 = s3[e, t3]
                            if i1 < 0 or i2 < 0 or i3 < 0:
                                dst[at:at + cg] = 0
                            elif cg >= 8:
                                start = (((n * d1 + i1) * d2 + i2) * d3 + i3) * c + c0
                                dst[at:at + cg] = src[start:start + cg]
                            else:
                                start = (((n * d1 + i1) * d2 + i2) * d3 + i3) * c + c0
                                for ch in range(cg):
                                    dst[at + ch] = src[start + ch]
                            at += cg


@_jit
def _gather_tables(x, p_shape, k_shape, strides, low, rd):
    """The ``tables`` argument of ``_im2col``."""
    return (_sources(p_shape[0], k_shape[0], strides[0], rd[0], low[0], x.shape[1]),
            _sources(p_shape[1], k_shape[1], strides[1], rd[1], low[1], x.shape[2]),
            _sources(p_shape[2], k_shape[2], strides[2], rd[2], low[2], x.shape[3]))


# The three GEMM kernels below run in parallel over images (numba's threads),
# each thread calling BLAS single-threaded on its own image (the kernel puts
# BLAS on one thread around its parallel loop, from the calling thread: see
# blas._set_threads_local). One pool of threads serves gathers and products
# alike, and per-image matrices (a few hundred rows) stay in cache between the
# gather and the product. W7 on the 2-core machine: per-image products on two
# numba threads ran as fast as one product over the batch on OpenBLAS's two
# threads.

@_pjit
def conv_gemm(x, w, out, strides, low, rd, feature_groups, batch_groups):
    """``out`` = the convolution (no input dilation; floats) as im2col + one
    BLAS GEMM per image and group: ``(positions, taps * I) @ (taps * I, O)``."""
    n_out, p1, p2, p3, o_total = out.shape
    k1, k2, k3, cg, _ = w.shape
    groups = feature_groups * batch_groups
    og = o_total // groups
    positions, kc = p1 * p2 * p3, k1 * k2 * k3 * cg
    wmat = w.reshape((kc, o_total))
    tables = _gather_tables(x, (p1, p2, p3), (k1, k2, k3), strides, low, rd)
    previous = blas_threads(1)
    for n in numba.prange(n_out):
        cols = np.empty((positions, kc), out.dtype)
        rows = out[n].reshape((positions, o_total))
        for g in range(groups):
            xn = n + (g * n_out if batch_groups > 1 else 0)
            c0 = g * cg if feature_groups > 1 else 0
            _im2col(x, xn, c0, cg, tables, cols, 0)
            gemm(cols, wmat[:, g * og:(g + 1) * og], rows[:, g * og:(g + 1) * og])
    blas_threads(previous)


@_jit
def _scatter_target(j, t, stride, rd, low, ld, size):
    """Output position that input element ``j`` reaches through tap ``t`` of
    one axis (``p * stride + t * rd - low == j * ld``), or -1."""
    q = j * ld + low - t * rd
    if q < 0 or q % stride != 0:
        return -1
    p = q // stride
    return p if p < size else -1


@_pjit
def conv_scatter(x, w, out, strides, low, ld, rd, feature_groups):
    """``out`` = the convolution of an input-dilated ``x`` (the input gradient
    of a strided conv; floats, no batch groups) without reading the dilation's
    zeros: per image and group one GEMM ``(D, I) @ (I, taps * O)`` gives every
    input element's contribution through every tap, added to the output
    position it reaches (col2im)."""
    n, p1, p2, p3, o_total = out.shape
    k1, k2, k3, cg, _ = w.shape
    d1, d2, d3 = x.shape[1], x.shape[2], x.shape[3]
    og = o_total // feature_groups
    taps = k1 * k2 * k3
    # per group, (I, taps * O): input channel -> every tap's output features
    wt = np.empty((feature_groups, cg, taps * og), out.dtype)
    wk = w.reshape((taps, cg, o_total))
    for g in range(feature_groups):
        for t in range(taps):
            wt[g, :, t * og:(t + 1) * og] = wk[t, :, g * og:(g + 1) * og]
    previous = blas_threads(1)
    for b in numba.prange(n):
        out[b] = 0
        contrib = np.empty((d1 * d2 * d3, taps * og), out.dtype)
        xb = x[b].reshape((d1 * d2 * d3, cg * feature_groups))
        for g in range(feature_groups):
            gemm(xb[:, g * cg:(g + 1) * cg], wt[g], contrib)
            for j1 in range(d1):
                for t1 in range(k1):
                    q1 = _scatter_target(j1, t1, strides[0], rd[0], low[0], ld[0], p1)
                    if q1 < 0:
                        continue
                    for j2 in range(d2):
                        for t2 in range(k2):
                            q2 = _scatter_target(j2, t2, strides[1], rd[1], low[1], ld[1], p2)
                            if q2 < 0:
                                continue
                            for j3 in range(d3):
                                row = (j1 * d2 + j2) * d3 + j3
                                for t3 in range(k3):
                                    q3 = _scatter_target(j3, t3, strides[2], rd[2], low[2], ld[2], p3)
                                    if q3 < 0:
                                        continue
                                    col = ((t1 * k2 + t2) * k3 + t3) * og
                                    for f in range(og):
                                        out[b, q1, q2, q3, g * og + f] += contrib[row, col + f]
    blas_threads(previous)


# conv_wgrad's products contract this many rows (positions of a few images)
# at least: 196-row products (one W7 image) ran ~1.5x slower than 1024-row ones.
_WGRAD_ROWS = 1024


@_pjit
def conv_wgrad(x, dy, out, strides, low, rd):
    """``out[k, c, o] = sum over n, p of x[n, p * strides + k * rd - low, c] *
    dy[n, p, o]``: the kernel gradient of a conv (no dilation of the input nor
    groups; floats), as ``im2col(x).T @ dy`` over blocks of images, in
    parallel, the blocks' products summed at the end. ``x`` ``(N, D1, D2, D3,
    C)``, ``dy`` ``(N, P1, P2, P3, O)``, ``out`` ``(K1, K2, K3, C, O)``: the
    layouts in which the transpose rule's conv (batch and feature axes
    swapped) holds its operands, so no copies."""
    n, p1, p2, p3, o = dy.shape
    k1, k2, k3, c, _ = out.shape
    positions, kc = p1 * p2 * p3, k1 * k2 * k3 * c
    per_block = min(n, max(1, _WGRAD_ROWS // positions))
    blocks = (n + per_block - 1) // per_block
    partial = np.empty((blocks, kc, o), out.dtype)
    dy_rows = dy.reshape((n * positions, o))
    tables = _gather_tables(x, (p1, p2, p3), (k1, k2, k3), strides, low, rd)
    previous = blas_threads(1)
    for blk in numba.prange(blocks):
        b0, b1 = blk * per_block, min(n, (blk + 1) * per_block)
        cols = np.empty(((b1 - b0) * positions, kc), out.dtype)
        for b in range(b0, b1):
            _im2col(x, b, 0, c, tables, cols, (b - b0) * positions)
        gemm(cols.T, dy_rows[b0 * positions:b1 * positions], partial[blk])
    blas_threads(previous)
    result = out.reshape((kc, o))
    result[...] = partial.sum(axis=0)


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
