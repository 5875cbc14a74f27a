/*
 * Exact Hamming-radius search over 256-bit codes by multi-index hashing: the fast path of
 * bastion.hashing.mih (which holds the same algorithm in numpy, the tested fallback).
 *
 * A segment of n codes is stored in the order of table 0's keys. Table s covers bits
 * [start_s, start_s + width_s) of each code (bit 0 = the lowest bit of the first uint64) and is
 * a CSR array: offsets[key] .. offsets[key + 1] are the positions of the codes with that key
 * (table 0: the positions themselves; tables 1..: rows[s][...] holds them). A query probes,
 * per table, every key within ``t_s`` bits of its own key; by the generalised pigeonhole
 * principle (sum of t_s >= radius + 1 - tables) every code within ``radius`` shares at least
 * one probed key. Candidates are verified on all 256 bits.
 *
 * Memory latency dominates, so a search runs in stages that prefetch the next stage's memory:
 * probe keys -> bucket bounds -> candidate positions -> codes (verified in chunks).
 *
 * Only the buffer protocol is used (no numpy headers); arrays are owned by Python.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MIH_ABI 3 /* bump when the layout or the calling convention changes */
#define MAX_TABLES 32
#define MAX_WIDTH 30
#define MAX_PROBE_RADIUS 3
#define CHUNK 2048

/* popcnt where the CPU has it (one build serves any x86-64); elsewhere the compiler's own. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MIH_HOT __attribute__((target_clones("popcnt", "default")))
#else
#define MIH_HOT
#endif

static inline uint32_t seg_key(const uint64_t *code, int start, int width)
{
    int word = start >> 6, shift = start & 63;
    uint64_t value = code[word] >> shift;
    if (shift + width > 64)
        value |= code[word + 1] << (64 - shift);
    return (uint32_t)(value & ((1ULL << width) - 1));
}

static inline int distance(const uint64_t *a, const uint64_t *b)
{
    return __builtin_popcountll(a[0] ^ b[0]) + __builtin_popcountll(a[1] ^ b[1]) +
           __builtin_popcountll(a[2] ^ b[2]) + __builtin_popcountll(a[3] ^ b[3]);
}

/* Row numbers are stored in 3 bytes while a segment has fewer than 2**24 codes, else 4
 * (little-endian); a 3-byte rows buffer has one byte of padding so that 4-byte loads stay
 * inside it. */
static inline uint32_t get_row(const uint8_t *rows, size_t j, int row_bytes)
{
    uint32_t value;
    memcpy(&value, rows + j * (size_t)row_bytes, 4);
    return row_bytes == 4 ? value : (value & 0xFFFFFFu);
}

static inline void put_row(uint8_t *rows, size_t j, int row_bytes, uint32_t value)
{
    memcpy(rows + j * (size_t)row_bytes, &value, (size_t)row_bytes);
}

static Py_ssize_t rows_len(Py_ssize_t n, int row_bytes)
{
    return n * row_bytes + (row_bytes == 3);
}

/* -- growable output ------------------------------------------------------------------------ */

typedef struct {
    uint32_t *rows;
    uint8_t *dists;
    Py_ssize_t len, cap;
} Hits;

static int hits_push(Hits *h, uint32_t row, int dist)
{
    if (h->len == h->cap) {
        Py_ssize_t cap = h->cap ? h->cap * 2 : 64;
        uint32_t *rows = realloc(h->rows, (size_t)cap * sizeof(uint32_t));
        if (!rows)
            return -1;
        h->rows = rows;
        uint8_t *dists = realloc(h->dists, (size_t)cap);
        if (!dists)
            return -1;
        h->dists = dists;
        h->cap = cap;
    }
    h->rows[h->len] = row;
    h->dists[h->len] = (uint8_t)dist;
    h->len++;
    return 0;
}

static void hits_free(Hits *h)
{
    free(h->rows);
    free(h->dists);
}

static PyObject *hits_result(Hits *h)
{
    PyObject *rows = PyBytes_FromStringAndSize((const char *)h->rows, h->len * 4);
    PyObject *dists = PyBytes_FromStringAndSize((const char *)h->dists, h->len);
    hits_free(h);
    if (!rows || !dists) {
        Py_XDECREF(rows);
        Py_XDECREF(dists);
        return NULL;
    }
    return Py_BuildValue("(NN)", rows, dists);
}

/* -- buffers --------------------------------------------------------------------------------- */

static int get_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t need, int writable,
                      const char *what)
{
    if (PyObject_GetBuffer(obj, view, (writable ? PyBUF_WRITABLE : 0) | PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (view->len < need) {
        PyErr_Format(PyExc_ValueError, "%s: buffer has %zd bytes, needs %zd", what, view->len,
                     need);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static int parse_layout(PyObject *layout, int *starts, int *widths, int *count)
{
    PyObject *seq = PySequence_Fast(layout, "layout must be a sequence of (start, width)");
    if (!seq)
        return -1;
    Py_ssize_t m = PySequence_Fast_GET_SIZE(seq);
    if (m < 1 || m > MAX_TABLES) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "layout must have 1..32 tables");
        return -1;
    }
    for (Py_ssize_t s = 0; s < m; s++) {
        int start, width;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, s), "ii", &start, &width)) {
            Py_DECREF(seq);
            return -1;
        }
        if (width < 1 || width > MAX_WIDTH || start < 0 || start + width > 256) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_ValueError, "layout: bad table start/width");
            return -1;
        }
        starts[s] = start;
        widths[s] = width;
    }
    Py_DECREF(seq);
    *count = (int)m;
    return 0;
}

/* -- the Segment type ------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    Py_ssize_t n;
    int m;
    int start[MAX_TABLES], width[MAX_TABLES];
    Py_buffer codes;
    Py_buffer offsets[MAX_TABLES];
    Py_buffer rows[MAX_TABLES]; /* rows[0] unused: table 0 is the storage order */
    int row_bytes;
    int held;                   /* number of tables whose buffers are held */
    int codes_held;
} Segment;

static void Segment_dealloc(Segment *self)
{
    for (int s = 0; s < self->held; s++) {
        PyBuffer_Release(&self->offsets[s]);
        if (s > 0)
            PyBuffer_Release(&self->rows[s]);
    }
    if (self->codes_held)
        PyBuffer_Release(&self->codes);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Segment(codes, layout, offsets, rows, row_bytes): codes n*4 uint64 in table-0 order;
 * offsets[s] uint32 (2**width_s + 1); rows[s] row numbers (n, row_bytes each) for s >= 1
 * (rows[0] is ignored, may be None). */
static int Segment_init(Segment *self, PyObject *args, PyObject *kwds)
{
    PyObject *codes, *layout, *offsets, *rows;
    int row_bytes;
    static char *kwlist[] = {"codes", "layout", "offsets", "rows", "row_bytes", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOi", kwlist, &codes, &layout, &offsets,
                                     &rows, &row_bytes))
        return -1;
    if (self->codes_held || self->held) {
        PyErr_SetString(PyExc_RuntimeError, "Segment is already initialised");
        return -1;
    }
    if (parse_layout(layout, self->start, self->width, &self->m) < 0)
        return -1;
    if (get_buffer(codes, &self->codes, 0, 0, "codes") < 0)
        return -1;
    self->codes_held = 1;
    if (self->codes.len % 32) {
        PyErr_SetString(PyExc_ValueError, "codes: length must be a multiple of 32 bytes");
        return -1;
    }
    self->n = self->codes.len / 32;
    if (self->n >= (Py_ssize_t)UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "a segment holds fewer than 2**32 codes");
        return -1;
    }
    if (row_bytes != 4 && !(row_bytes == 3 && self->n < (1 << 24))) {
        PyErr_SetString(PyExc_ValueError, "row_bytes must be 4 (or 3 below 2**24 codes)");
        return -1;
    }
    self->row_bytes = row_bytes;
    if (!PySequence_Check(offsets) || !PySequence_Check(rows) ||
        PySequence_Size(offsets) != self->m || PySequence_Size(rows) != self->m) {
        PyErr_SetString(PyExc_ValueError, "offsets and rows must have one item per table");
        return -1;
    }
    for (int s = 0; s < self->m; s++) {
        PyObject *off = PySequence_GetItem(offsets, s);
        if (!off)
            return -1;
        int rc = get_buffer(off, &self->offsets[s], (((Py_ssize_t)1 << self->width[s]) + 1) * 4,
                            0, "offsets");
        Py_DECREF(off);
        if (rc < 0)
            return -1;
        if (s > 0) {
            PyObject *row = PySequence_GetItem(rows, s);
            if (!row) {
                PyBuffer_Release(&self->offsets[s]);
                return -1;
            }
            rc = get_buffer(row, &self->rows[s], rows_len(self->n, row_bytes), 0, "rows");
            Py_DECREF(row);
            if (rc < 0) {
                PyBuffer_Release(&self->offsets[s]);
                return -1;
            }
        }
        self->held = s + 1;
        /* Bucket bounds are trusted by the search: check them once, here. */
        const uint32_t *o = self->offsets[s].buf;
        Py_ssize_t keys = (Py_ssize_t)1 << self->width[s];
        if (o[0] != 0 || o[keys] != (uint32_t)self->n) {
            PyErr_SetString(PyExc_ValueError, "offsets do not cover the segment");
            return -1;
        }
        for (Py_ssize_t k = 0; k < keys; k++)
            if (o[k] > o[k + 1]) {
                PyErr_SetString(PyExc_ValueError, "offsets are not monotonic");
                return -1;
            }
        if (s > 0) {
            const uint8_t *r = self->rows[s].buf;
            for (Py_ssize_t i = 0; i < self->n; i++)
                if (get_row(r, (size_t)i, row_bytes) >= (uint32_t)self->n) {
                    PyErr_SetString(PyExc_ValueError, "rows point outside the segment");
                    return -1;
                }
        }
    }
    return 0;
}

typedef struct {
    uint32_t key;
    uint8_t table;
} Probe;

typedef struct {
    uint32_t lo, hi;
    uint8_t table;
} Range;

/* Every key within t bits of key over width bits, appended to out (caller sized it). */
static Py_ssize_t emit_probes(Probe *out, uint32_t key, int width, int t, int table)
{
    Py_ssize_t n = 0;
    out[n++] = (Probe){key, (uint8_t)table};
    if (t >= 1)
        for (int a = 0; a < width; a++) {
            uint32_t ka = key ^ (1u << a);
            out[n++] = (Probe){ka, (uint8_t)table};
            if (t >= 2)
                for (int b = a + 1; b < width; b++) {
                    uint32_t kb = ka ^ (1u << b);
                    out[n++] = (Probe){kb, (uint8_t)table};
                    if (t >= 3)
                        for (int c = b + 1; c < width; c++)
                            out[n++] = (Probe){kb ^ (1u << c), (uint8_t)table};
                }
        }
    return n;
}

static Py_ssize_t probe_count(int width, int t)
{
    Py_ssize_t w = width, n = 1;
    if (t >= 1)
        n += w;
    if (t >= 2)
        n += w * (w - 1) / 2;
    if (t >= 3)
        n += w * (w - 1) * (w - 2) / 6;
    return n;
}

/* The search proper; runs without the GIL. Returns 0, or -1 when out of memory. */
MIH_HOT static int segment_search(const Segment *self, const uint64_t *query, const int *thresholds,
                          int radius, Hits *hits)
{
    const uint64_t *codes = self->codes.buf;
    Py_ssize_t total = 0;
    for (int s = 0; s < self->m; s++)
        if (thresholds[s] >= 0)
            total += probe_count(self->width[s], thresholds[s]);
    Probe *probes = malloc((size_t)total * sizeof(Probe));
    Range *ranges = malloc((size_t)total * sizeof(Range));
    uint32_t *cand = malloc(CHUNK * sizeof(uint32_t));
    if (!probes || !ranges || !cand) {
        free(probes);
        free(ranges);
        free(cand);
        return -1;
    }
    /* 1. probe keys; prefetch their bucket bounds */
    Py_ssize_t np_ = 0;
    for (int s = 0; s < self->m; s++) {
        if (thresholds[s] < 0)
            continue;
        uint32_t key = seg_key(query, self->start[s], self->width[s]);
        Py_ssize_t first = np_;
        np_ += emit_probes(probes + np_, key, self->width[s], thresholds[s], s);
        const uint32_t *off = self->offsets[s].buf;
        for (Py_ssize_t p = first; p < np_; p++)
            __builtin_prefetch(off + probes[p].key);
    }
    /* 2. bucket bounds; prefetch the first row numbers (or codes, for table 0) */
    Py_ssize_t nr = 0;
    for (Py_ssize_t p = 0; p < np_; p++) {
        int s = probes[p].table;
        const uint32_t *off = self->offsets[s].buf;
        uint32_t lo = off[probes[p].key], hi = off[probes[p].key + 1];
        if (lo == hi)
            continue;
        ranges[nr++] = (Range){lo, hi, (uint8_t)s};
        if (s == 0)
            __builtin_prefetch(codes + (size_t)lo * 4);
        else
            __builtin_prefetch((const uint8_t *)self->rows[s].buf + (size_t)lo * self->row_bytes);
    }
    /* 3. candidates in chunks: gather positions and prefetch codes, then verify the chunk */
    Py_ssize_t nc = 0;
    int failed = 0;
    for (Py_ssize_t r = 0; r <= nr && !failed; r++) {
        if (r < nr) {
            const Range range = ranges[r];
            const uint8_t *rows = range.table ? self->rows[range.table].buf : NULL;
            const int rb = self->row_bytes;
            uint32_t j = range.lo;
            while (j < range.hi) {
                uint32_t take = range.hi - j;
                if (take > (uint32_t)(CHUNK - nc))
                    take = (uint32_t)(CHUNK - nc);
                for (uint32_t k = 0; k < take; k++, j++) {
                    uint32_t row = rows ? get_row(rows, j, rb) : j;
                    cand[nc++] = row;
                    __builtin_prefetch(codes + (size_t)row * 4);
                }
                if (nc == CHUNK) {
                    for (Py_ssize_t c = 0; c < nc; c++) {
                        int d = distance(codes + (size_t)cand[c] * 4, query);
                        if (d <= radius && hits_push(hits, cand[c], d) < 0)
                            failed = 1;
                    }
                    nc = 0;
                }
            }
        }
        else {
            for (Py_ssize_t c = 0; c < nc; c++) {
                int d = distance(codes + (size_t)cand[c] * 4, query);
                if (d <= radius && hits_push(hits, cand[c], d) < 0)
                    failed = 1;
            }
        }
    }
    free(probes);
    free(ranges);
    free(cand);
    return failed ? -1 : 0;
}

static int parse_query(PyObject *query_obj, uint64_t *query)
{
    Py_buffer q;
    if (PyObject_GetBuffer(query_obj, &q, PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (q.len != 32) {
        PyBuffer_Release(&q);
        PyErr_SetString(PyExc_ValueError, "a query is 32 bytes");
        return -1;
    }
    memcpy(query, q.buf, 32);
    PyBuffer_Release(&q);
    return 0;
}

/* search(query: 32 bytes, thresholds: sequence of int (-1 skips a table), radius) ->
 * (rows: bytes of uint32, distances: bytes of uint8); a row may repeat. */
static PyObject *Segment_search(Segment *self, PyObject *args)
{
    PyObject *query_obj, *thr_obj;
    int radius;
    if (!PyArg_ParseTuple(args, "OOi", &query_obj, &thr_obj, &radius))
        return NULL;
    if (!self->codes_held || self->held != self->m) {
        PyErr_SetString(PyExc_RuntimeError, "Segment is not initialised");
        return NULL;
    }
    uint64_t query[4];
    if (parse_query(query_obj, query) < 0)
        return NULL;
    if (radius < 0 || radius > 255) {
        PyErr_SetString(PyExc_ValueError, "radius must be 0..255");
        return NULL;
    }
    int thresholds[MAX_TABLES];
    PyObject *seq = PySequence_Fast(thr_obj, "thresholds must be a sequence");
    if (!seq)
        return NULL;
    if (PySequence_Fast_GET_SIZE(seq) != self->m) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "one threshold per table");
        return NULL;
    }
    for (int s = 0; s < self->m; s++) {
        long t = PyLong_AsLong(PySequence_Fast_GET_ITEM(seq, s));
        if (t == -1 && PyErr_Occurred()) {
            Py_DECREF(seq);
            return NULL;
        }
        if (t < -1 || t > MAX_PROBE_RADIUS) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_ValueError, "thresholds must be -1..3");
            return NULL;
        }
        thresholds[s] = (int)t;
    }
    Py_DECREF(seq);
    Hits hits = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = segment_search(self, query, thresholds, radius, &hits);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        hits_free(&hits);
        return PyErr_NoMemory();
    }
    return hits_result(&hits);
}

static PyObject *Segment_get_size(Segment *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(self->n);
}

static PyMethodDef Segment_methods[] = {
    {"search", (PyCFunction)Segment_search, METH_VARARGS,
     "search(query, thresholds, radius) -> (rows uint32 bytes, distances uint8 bytes)"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Segment_getset[] = {
    {"size", (getter)Segment_get_size, NULL, "number of codes", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject SegmentType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bastion.hashing._mih.Segment",
    .tp_basicsize = sizeof(Segment),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A multi-index segment over buffers owned by Python.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Segment_init,
    .tp_dealloc = (destructor)Segment_dealloc,
    .tp_methods = Segment_methods,
    .tp_getset = Segment_getset,
};

/* -- build ------------------------------------------------------------------------------------ */

/* Counting sort of n keys into a CSR table: offsets (2**width + 1) and, for each key in input
 * order, its position. ``place(i, pos)`` is done by the caller from ``positions``. */
static void count_keys(const uint64_t *codes, Py_ssize_t n, int start, int width, uint32_t *off)
{
    Py_ssize_t keys = (Py_ssize_t)1 << width;
    memset(off, 0, (size_t)(keys + 1) * 4);
    for (Py_ssize_t i = 0; i < n; i++)
        off[seg_key(codes + i * 4, start, width) + 1]++;
    for (Py_ssize_t k = 0; k < keys; k++)
        off[k + 1] += off[k];
}

/* build(parts, layout, codes_out, ids_out, offsets, rows, row_bytes, id_bytes): parts is a
 * sequence of (codes, ids) buffers (n_i*4 uint64, n_i int64); writes the codes and ids (as
 * int64, or uint32 when id_bytes is 4) in table-0 order and fills every table. Runs without
 * the GIL once the buffers are taken. */
static PyObject *mih_build(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *parts, *layout, *codes_out_obj, *ids_out_obj, *offsets, *rows;
    int row_bytes, id_bytes;
    if (!PyArg_ParseTuple(args, "OOOOOOii", &parts, &layout, &codes_out_obj, &ids_out_obj,
                          &offsets, &rows, &row_bytes, &id_bytes))
        return NULL;
    if ((row_bytes != 3 && row_bytes != 4) || (id_bytes != 4 && id_bytes != 8)) {
        PyErr_SetString(PyExc_ValueError, "row_bytes must be 3 or 4, id_bytes 4 or 8");
        return NULL;
    }
    int starts[MAX_TABLES], widths[MAX_TABLES], m;
    if (parse_layout(layout, starts, widths, &m) < 0)
        return NULL;
    PyObject *pseq = PySequence_Fast(parts, "parts must be a sequence of (codes, ids)");
    if (!pseq)
        return NULL;
    Py_ssize_t nparts = PySequence_Fast_GET_SIZE(pseq);
    Py_buffer *pcodes = calloc((size_t)(nparts ? nparts : 1), sizeof(Py_buffer));
    Py_buffer *pids = calloc((size_t)(nparts ? nparts : 1), sizeof(Py_buffer));
    Py_buffer cout = {0}, iout = {0};
    Py_buffer offv[MAX_TABLES], rowv[MAX_TABLES];
    int got_out = 0, got_tables = 0;
    PyObject *result = NULL;
    Py_ssize_t n = 0;
    if (!pcodes || !pids) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t p = 0; p < nparts; p++) {
        PyObject *c, *i;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(pseq, p), "OO", &c, &i))
            goto done;
        if (get_buffer(c, &pcodes[p], 0, 0, "codes") < 0)
            goto done;
        if (get_buffer(i, &pids[p], pcodes[p].len / 32 * 8, 0, "ids") < 0) {
            PyBuffer_Release(&pcodes[p]);
            goto done;
        }
        if (pcodes[p].len % 32) {
            PyErr_SetString(PyExc_ValueError, "codes: length must be a multiple of 32 bytes");
            goto done;
        }
        n += pcodes[p].len / 32;
    }
    if (n >= (Py_ssize_t)UINT32_MAX || (row_bytes == 3 && n >= (1 << 24))) {
        PyErr_SetString(PyExc_ValueError, "too many codes for the row width");
        goto done;
    }
    if (get_buffer(codes_out_obj, &cout, n * 32, 1, "codes_out") < 0)
        goto done;
    if (get_buffer(ids_out_obj, &iout, n * id_bytes, 1, "ids_out") < 0) {
        PyBuffer_Release(&cout);
        goto done;
    }
    got_out = 1;
    if (!PySequence_Check(offsets) || !PySequence_Check(rows) || PySequence_Size(offsets) != m ||
        PySequence_Size(rows) != m) {
        PyErr_SetString(PyExc_ValueError, "offsets and rows must have one item per table");
        goto done;
    }
    for (int s = 0; s < m; s++, got_tables++) {
        PyObject *o = PySequence_GetItem(offsets, s);
        if (!o)
            goto done;
        int rc = get_buffer(o, &offv[s], (((Py_ssize_t)1 << widths[s]) + 1) * 4, 1, "offsets");
        Py_DECREF(o);
        if (rc < 0)
            goto done;
        if (s > 0) {
            PyObject *r = PySequence_GetItem(rows, s);
            rc = r ? get_buffer(r, &rowv[s], rows_len(n, row_bytes), 1, "rows") : -1;
            Py_XDECREF(r);
            if (rc < 0) {
                PyBuffer_Release(&offv[s]);
                goto done;
            }
        }
    }
    {
        uint64_t *codes = cout.buf;
        uint8_t *ids = iout.buf;
        Py_ssize_t keys0 = (Py_ssize_t)1 << widths[0];
        uint32_t *off0 = offv[0].buf;
        Py_BEGIN_ALLOW_THREADS
        /* table 0: count over every part, then scatter codes and ids into key order */
        memset(off0, 0, (size_t)(keys0 + 1) * 4);
        for (Py_ssize_t p = 0; p < nparts; p++) {
            const uint64_t *c = pcodes[p].buf;
            for (Py_ssize_t i = 0; i < pcodes[p].len / 32; i++)
                off0[seg_key(c + i * 4, starts[0], widths[0]) + 1]++;
        }
        for (Py_ssize_t k = 0; k < keys0; k++)
            off0[k + 1] += off0[k];
        for (Py_ssize_t p = 0; p < nparts; p++) {
            const uint64_t *c = pcodes[p].buf;
            const int64_t *d = pids[p].buf;
            for (Py_ssize_t i = 0; i < pcodes[p].len / 32; i++) {
                uint32_t pos = off0[seg_key(c + i * 4, starts[0], widths[0])]++;
                memcpy(codes + (size_t)pos * 4, c + i * 4, 32);
                if (id_bytes == 8) {
                    memcpy(ids + (size_t)pos * 8, d + i, 8);
                } else {
                    uint32_t id32 = (uint32_t)d[i];
                    memcpy(ids + (size_t)pos * 4, &id32, 4);
                }
            }
        }
        memmove(off0 + 1, off0, (size_t)keys0 * 4);
        off0[0] = 0;
        /* tables 1..: row numbers in key order */
        for (int s = 1; s < m; s++) {
            uint32_t *off = offv[s].buf;
            uint8_t *row = rowv[s].buf;
            Py_ssize_t keys = (Py_ssize_t)1 << widths[s];
            count_keys(codes, n, starts[s], widths[s], off);
            for (Py_ssize_t i = 0; i < n; i++)
                put_row(row, off[seg_key(codes + i * 4, starts[s], widths[s])]++, row_bytes,
                        (uint32_t)i);
            memmove(off + 1, off, (size_t)keys * 4);
            off[0] = 0;
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);
done:
    for (int s = 0; s < got_tables; s++) {
        PyBuffer_Release(&offv[s]);
        if (s > 0)
            PyBuffer_Release(&rowv[s]);
    }
    if (got_out) {
        PyBuffer_Release(&cout);
        PyBuffer_Release(&iout);
    }
    for (Py_ssize_t p = 0; pcodes && pids && p < nparts; p++) {
        if (pcodes[p].obj)
            PyBuffer_Release(&pcodes[p]);
        if (pids[p].obj)
            PyBuffer_Release(&pids[p]);
    }
    free(pcodes);
    free(pids);
    Py_DECREF(pseq);
    return result;
}

MIH_HOT static int scan_codes(const uint64_t *codes, Py_ssize_t n, const uint64_t *query,
                              int radius, Hits *hits)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        int d = distance(codes + i * 4, query);
        if (d <= radius && hits_push(hits, (uint32_t)i, d) < 0)
            return -1;
    }
    return 0;
}

/* scan(codes, query, radius) -> (rows, distances): brute force over a small segment. */
static PyObject *mih_scan(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *codes_obj, *query_obj;
    int radius;
    if (!PyArg_ParseTuple(args, "OOi", &codes_obj, &query_obj, &radius))
        return NULL;
    uint64_t query[4];
    if (parse_query(query_obj, query) < 0)
        return NULL;
    Py_buffer view;
    if (get_buffer(codes_obj, &view, 0, 0, "codes") < 0)
        return NULL;
    if (view.len % 32) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "codes: length must be a multiple of 32 bytes");
        return NULL;
    }
    Py_ssize_t n = view.len / 32;
    if (n >= (Py_ssize_t)UINT32_MAX) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "too many codes");
        return NULL;
    }
    Hits hits = {0};
    int failed;
    Py_BEGIN_ALLOW_THREADS
    failed = scan_codes(view.buf, n, query, radius, &hits) < 0;
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (failed) {
        hits_free(&hits);
        return PyErr_NoMemory();
    }
    return hits_result(&hits);
}

static PyMethodDef module_methods[] = {
    {"build", mih_build, METH_VARARGS,
     "build(parts, layout, codes_out, ids_out, offsets, rows): fill a segment's tables"},
    {"scan", mih_scan, METH_VARARGS, "scan(codes, query, radius) -> (rows, distances)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef mih_module = {
    PyModuleDef_HEAD_INIT, "_mih", "Multi-index hashing: the C fast path.", -1, module_methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__mih(void)
{
    if (PyType_Ready(&SegmentType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&mih_module);
    if (!module)
        return NULL;
    if (PyModule_AddIntConstant(module, "ABI", MIH_ABI) < 0 ||
        PyModule_AddObjectRef(module, "Segment", (PyObject *)&SegmentType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
