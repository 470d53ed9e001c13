// support.py of a PyTorch export (pytorch.ts): graph-run's Threefry streams (the per-epoch row
// order and dropout masks, bit for bit), the ops whose semantics a torch call does not give,
// safetensors in graph-run's checkpoint layout, the data readers and the global-batch sampler.

export const SUPPORT_PY = `"""graph-run's runtime pieces that an exported model needs to train as graph-run does.

The Threefry-2x32 generator and the named streams built on it (graph-run's docs/init.md): the
per-epoch row order and dropout masks are pure functions of (seed, stream, counter), so they
are recomputed here bit for bit. Also: the ops whose graph-run semantics a one-line torch call
does not give (ties of maximum, scalar conditions of where), safetensors files in graph-run's
checkpoint layout, the data readers, and the sampler that hands each process its share of
every global batch.
"""

import gzip
import json
import math
import os
import struct

import numpy as np
import torch

# ---------------------------------------------------------------------------------------------
# Threefry-2x32-20 (Salmon et al., SC'11), vectorised over counters with numpy uint32 arithmetic.

_ROT = [13, 15, 26, 6, 17, 29, 16, 24]
_M32 = np.uint64(0xFFFFFFFF)


def _rotl(x, s):
    return ((x << np.uint32(s)) | (x >> np.uint32(32 - s))).astype(np.uint32)


def threefry2x32(k0, k1, c0, c1):
    """Threefry-2x32-20 of counters (c0, c1) (uint32 arrays) under key (k0, k1)."""
    with np.errstate(over="ignore"):
        ks = [np.uint32(k0), np.uint32(k1), np.uint32(0x1BD11BDA ^ k0 ^ k1)]
        x0 = (np.asarray(c0, dtype=np.uint32) + ks[0]).astype(np.uint32)
        x1 = (np.asarray(c1, dtype=np.uint32) + ks[1]).astype(np.uint32)
        for block in range(5):
            rot = 0 if block % 2 == 0 else 4
            for r in range(4):
                x0 = (x0 + x1).astype(np.uint32)
                x1 = _rotl(x1, _ROT[rot + r]) ^ x0
            i = block + 1
            x0 = (x0 + ks[i % 3]).astype(np.uint32)
            x1 = (x1 + ks[(i + 1) % 3] + np.uint32(i)).astype(np.uint32)
    return x0, x1


def fnv1a32(s):
    """FNV-1a of a string's UTF-16 code units (graph-run's stream-name hash)."""
    h = 0x811C9DC5
    for unit in struct.unpack("<%dH" % (len(s.encode("utf-16-le")) // 2), s.encode("utf-16-le")):
        h ^= unit
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def uniform(seed, name, i, j):
    """Doubles in [0, 1) of stream "name" under "seed" at counters (i, j): 53 random bits each."""
    a, b = threefry2x32(seed & 0xFFFFFFFF, fnv1a32(name), np.asarray(i, dtype=np.uint32),
                        np.broadcast_to(np.uint32(j & 0xFFFFFFFF), np.shape(i)))
    return ((a >> np.uint32(5)).astype(np.float64) * 67108864.0 + (b >> np.uint32(6)).astype(np.float64)) / 9007199254740992.0


def shuffled_order(seed, n, epoch):
    """graph-run's row order in epoch "epoch": Fisher-Yates driven by stream "shuffle"."""
    out = list(range(n))
    if n > 1:
        u = uniform(seed, "shuffle", np.arange(n, dtype=np.uint32), epoch)
        for i in range(n - 1, 0, -1):
            j = int(math.floor(float(u[i]) * (i + 1)))
            out[i], out[j] = out[j], out[i]
    return out


class StepContext:
    """What a forward pass needs besides its inputs: the 1-based training step (0 outside
    training: dropout is the identity) and, under data parallelism, the positions of this
    process's rows within the global batch (so dropout draws the elements a single process would)."""

    def __init__(self, step=0, epoch=0, rows=None):
        self.step = step
        self.epoch = epoch
        self.rows = rows


def dropout(x, p, seed, stream, ctx):
    """graph-run's dropout: element i is kept when uniform(i, step) of "dropout:<stream>" < 1 - p."""
    if ctx is None or ctx.step <= 0 or p == 0:
        return x
    n = x.numel()
    if ctx.rows is None:
        index = np.arange(n, dtype=np.uint64)
    else:
        per_row = n // max(1, x.shape[0]) if x.dim() > 0 else n
        index = (np.asarray(ctx.rows, dtype=np.uint64)[:, None] * np.uint64(per_row)
                 + np.arange(per_row, dtype=np.uint64)[None, :]).reshape(-1)
    keep = uniform(seed, "dropout:" + stream, (index & _M32).astype(np.uint32), ctx.step) < 1 - p
    mask = torch.from_numpy(keep.reshape(tuple(x.shape))).to(x.device)
    return torch.where(mask, x * (1 / (1 - p)), torch.zeros((), dtype=x.dtype, device=x.device))


# ---------------------------------------------------------------------------------------------
# Ops: graph-run's semantics where a torch call alone differs.

def matmul(a, b, transpose_a=False, transpose_b=False):
    if transpose_a and a.dim() >= 2:
        a = a.mT
    if transpose_b and b.dim() >= 2:
        b = b.mT
    return torch.matmul(a, b)


def _pair(a, b):
    if torch.is_tensor(a) and not torch.is_tensor(b):
        b = torch.tensor(b, dtype=a.dtype, device=a.device)
    elif torch.is_tensor(b) and not torch.is_tensor(a):
        a = torch.tensor(a, dtype=b.dtype, device=b.device)
    return a, b


def maximum(a, b):
    """Elementwise max; ties send the gradient to a (graph-run), not half to each (torch.maximum)."""
    if not torch.is_tensor(a) and not torch.is_tensor(b):
        return max(a, b)
    a, b = _pair(a, b)
    return torch.where(a >= b, a, b)


def minimum(a, b):
    if not torch.is_tensor(a) and not torch.is_tensor(b):
        return min(a, b)
    a, b = _pair(a, b)
    return torch.where(a <= b, a, b)


def where(cond, a, b):
    """a where cond is nonzero, else b (a number as cond picks one side)."""
    if not torch.is_tensor(cond):
        return a if cond != 0 else b
    like = a if torch.is_tensor(a) else b if torch.is_tensor(b) else None
    if like is None:
        like = torch.tensor(0.0, dtype=torch.get_default_dtype())
    a = a if torch.is_tensor(a) else torch.tensor(a, dtype=like.dtype, device=cond.device)
    b = b if torch.is_tensor(b) else torch.tensor(b, dtype=like.dtype, device=cond.device)
    return torch.where(cond != 0, a, b)


def compare(op, a, b):
    """1 where the comparison holds, else 0, in the operands' dtype."""
    fn = {"equal": torch.eq, "not_equal": torch.ne, "greater": torch.gt, "greater_equal": torch.ge,
          "less": torch.lt, "less_equal": torch.le}[op]
    if not torch.is_tensor(a) and not torch.is_tensor(b):
        return 1.0 if fn(torch.tensor(a), torch.tensor(b)).item() else 0.0
    like = a if torch.is_tensor(a) else b
    return fn(a, b).to(like.dtype)


def scalar(op, *xs):
    """An op on numbers only: evaluated once in double precision, as graph-run folds constants."""
    return float(getattr(np, op)(*[np.float64(x) for x in xs]))


def take(x, axes, starts, ends, steps):
    """graph-run's slice: along each listed axis, start, start+step, ... before end (Python rules)."""
    index = [slice(None)] * x.dim()
    for k, axis in enumerate(axes):
        index[axis] = slice(starts[k], ends[k], steps[k] if steps else 1)
    return x[tuple(index)]


# ---------------------------------------------------------------------------------------------
# safetensors, as graph-run writes its checkpoints (no dependency: the format is a JSON header).

_DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U8": np.uint8}


def load_safetensors(path):
    """Tensors (numpy arrays, by name) and the metadata of a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError("%s: header claims %d bytes, the file has %d" % (path, n, len(data)))
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {}) or {}
    body = data[8 + n:]
    out = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        out[name] = np.frombuffer(body[b:e], dtype=np.dtype(_DTYPES[t["dtype"]]).newbyteorder("<")).reshape(t["shape"]).copy()
    return out, meta


def save_safetensors(path, tensors, metadata):
    """Write named numpy arrays (in order) with string metadata, atomically."""
    names = {np.dtype(v).name: k for k, v in _DTYPES.items()}
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": names[a.dtype.name], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Data: the files graph-run reads (docs/data.md), one numpy array per input.

def _idx(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    code, rank = data[2], data[3]
    dims = struct.unpack(">%dI" % rank, data[4:4 + 4 * rank])
    kinds = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    return np.frombuffer(data[4 + 4 * rank:], dtype=np.dtype(kinds[code]), count=int(np.prod(dims))).reshape(dims)


def _array_file(path, array):
    if path.endswith(".npy"):
        return np.load(path, allow_pickle=False)
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as z:
            return z[array]
    if path.endswith(".safetensors"):
        return load_safetensors(path)[0][array]
    return _idx(path)


def _csv_columns(header, spec):
    """The column indices a CSV "columns" entry names: a name, a list, a range a0..a9, a pattern."""
    names = spec if isinstance(spec, list) else [spec]
    out = []
    for s in names:
        if s in header:
            out.append(header.index(s))
        elif "*" in s:
            import fnmatch
            out.extend(i for i, h in enumerate(header) if fnmatch.fnmatchcase(h, s.replace("[", "[[]")))
        elif ".." in s:
            lo, hi = s.split("..", 1)
            stem = lo.rstrip("0123456789")
            first, last = int(lo[len(stem):]), int(hi[len(stem):] if hi.startswith(stem) and stem else hi)
            out.extend(header.index("%s%d" % (stem, k)) for k in range(first, last + 1))
        else:
            raise KeyError("column %r is not in the file's header" % s)
    return out


def _read_csv(path, columns):
    import csv
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    header = [h.strip() for h in rows[0]]
    body = np.array([[float(c) for c in r] for r in rows[1:]], dtype=np.float64)
    return {name: body[:, _csv_columns(header, spec)] if isinstance(spec, list) or ".." in spec or "*" in spec
            else body[:, header.index(spec)] for name, spec in columns.items()}


def _read_json(path, columns):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if isinstance(doc, dict):
        return {name: np.asarray(doc[spec], dtype=np.float64) for name, spec in columns.items()}
    out = {}
    for name, spec in columns.items():
        keys = spec if isinstance(spec, list) else [spec]
        a = np.array([[rec[k] for k in keys] for rec in doc], dtype=np.float64)
        out[name] = a if isinstance(spec, list) else a[:, 0]
    return out


def _find(package, entry):
    """A data file: its path relative to the package, else the absolute path it had at export."""
    rel = os.path.join(package, entry["path"])
    return rel if os.path.exists(rel) else entry["abs"]


def read_source(package, source, inputs):
    """One array per input (float64 or int64, rows first) for a data source of config.json."""
    out = {}
    if source["kind"] == "inline":
        with open(os.path.join(package, source["file"]), encoding="utf-8") as f:
            inline = json.load(f)
        for name, rows in inline.items():
            out[name] = np.asarray(rows, dtype=np.float64)
        for name, entry in source.get("files", {}).items():
            a = _array_file(_find(package, entry), entry.get("array", name)).astype(np.float64)
            out[name] = a * entry["scale"] if "scale" in entry else a
    else:
        path = _find(package, source)
        columns = source.get("columns") or {name: name for name in inputs}
        columns = {name: columns.get(name, name) for name in inputs}
        if path.endswith(".csv"):
            out = _read_csv(path, columns)
        elif path.endswith(".json"):
            out = _read_json(path, columns)
        else:
            out = {name: _array_file(path, spec).astype(np.float64) for name, spec in columns.items()}
    result = {}
    for name, spec in inputs.items():
        a = out[name]
        a = a.reshape((a.shape[0],) + tuple(spec["row"]))
        result[name] = a.astype(np.int64) if spec["dtype"] == "i32" else a
    return result


class GraphDataset(torch.utils.data.Dataset):
    """The rows of a data section: one tensor per input, fetched a batch of indices at a time."""

    def __init__(self, arrays, dtype):
        self.tensors = {k: torch.from_numpy(v) if v.dtype == np.int64 else torch.from_numpy(v).to(dtype)
                        for k, v in arrays.items()}
        self.rows = len(next(iter(self.tensors.values())))

    def __len__(self):
        return self.rows

    def __getitem__(self, i):
        return {k: v[i] for k, v in self.tensors.items()}

    def __getitems__(self, indices):
        index = torch.as_tensor(indices, dtype=torch.long)
        return {k: v[index] for k, v in self.tensors.items()}

    def take(self, start, stop):
        return {k: v[start:stop] for k, v in self.tensors.items()}


class GlobalBatchSampler(torch.utils.data.Sampler):
    """graph-run's batches, shared between processes: step k of an epoch takes rows
    order[k*B : (k+1)*B] of that epoch's order (graph-run's seeded shuffle, or data order), and
    process r of W takes every W-th of them from the r-th. Like DistributedSampler it knows its
    replica and is told the epoch (set_epoch); unlike it, it keeps graph-run's order and global
    batches and neither pads nor drops rows, so W processes compute the step one process does."""

    def __init__(self, rows, batch_size, shuffle, seed, num_replicas=1, rank=0):
        self.rows, self.batch_size, self.shuffle, self.seed = rows, batch_size, shuffle, seed
        self.num_replicas, self.rank, self.epoch = num_replicas, rank, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def global_batches(self):
        order = shuffled_order(self.seed, self.rows, self.epoch) if self.shuffle else list(range(self.rows))
        for start in range(0, self.rows, self.batch_size):
            yield order[start:start + self.batch_size]

    def __iter__(self):
        for batch in self.global_batches():
            yield batch[self.rank::self.num_replicas]

    def __len__(self):
        return (self.rows + self.batch_size - 1) // self.batch_size


def per_row(x):
    """Elements per row of a batch tensor (1 for one value per row)."""
    return max(1, int(np.prod(tuple(x.shape[1:]))))


def _decisions(m, pred, target):
    """graph-run's metric layout (runtime/train/metrics.ts): correct decisions and positions."""
    b = pred.shape[0]
    row = tuple(pred.shape[1:])
    classes = row[-1] if row else 1
    per = int(np.prod(row)) if row else 1
    t_per = int(np.prod(tuple(target.shape[1:]))) if target.dim() > 1 else 1
    if classes > 1:
        scores = pred.reshape(b, -1, classes)
        labels = target.reshape(b, -1, classes).argmax(-1) if t_per == per else target.reshape(b, -1).long()
        if m["kind"] == "top_k":
            top = scores.topk(min(m["k"], classes), dim=-1).indices
            return int((top == labels.unsqueeze(-1)).any(-1).sum()), labels.numel()
        return int((scores.argmax(-1) == labels).sum()), labels.numel()
    p = pred.reshape(b, -1) > m["threshold"]
    t = target.reshape(b, -1) > 0.5
    return int((p == t).sum()), p.numel()


def metric_values(metrics, sums, loss):
    out = {}
    for m, (hit, count) in zip(metrics, sums):
        out[m["name"]] = math.exp(loss) if m["kind"] == "perplexity" else (hit / count if count else float("nan"))
    return out
`;
