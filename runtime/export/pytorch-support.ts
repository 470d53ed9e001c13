// support.py of a PyTorch export (pytorch.ts): graph-run's Threefry streams (the per-epoch row
// order and dropout masks, bit for bit), the ops whose semantics a torch call does not give,
// safetensors in graph-run's checkpoint layout, and the logged metrics.

export const SUPPORT_PY = `"""graph-run's runtime pieces that an exported model needs to train as graph-run does.

The Threefry-2x32 generator and the named streams built on it (graph-run's docs/init.md): the
per-epoch row order and dropout masks are pure functions of (seed, stream, counter), so they
are recomputed here bit for bit. Also: the ops whose graph-run semantics a one-line torch call
does not give (ties of maximum, scalar conditions of where), safetensors files in graph-run's
checkpoint layout, and the metrics graph-run logs. data.py reads the data section.
"""

import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

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


def clock(ctx, name):
    """graph-run's __step (1-based, 0 outside training) or __epoch as a double."""
    return torch.tensor(float(getattr(ctx, name)) if ctx is not None else 0.0, dtype=torch.float64)


def is_training(ctx):
    """graph-run's is_training: 1 in a training step's forward pass (step >= 1), else 0."""
    return torch.tensor(1.0 if ctx is not None and ctx.step > 0 else 0.0, dtype=torch.float64)


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


def conv(dims, x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """conv1d / conv2d with graph-run's padding forms: a number, one per axis, "valid", "same",
    or one per side ([top, left, bottom, right]; conv1d [left, right]), which torch takes as F.pad."""
    fn = F.conv2d if dims == 2 else F.conv1d
    if isinstance(padding, (list, tuple)) and len(padding) == 2 * dims:
        sides = (padding[1], padding[3], padding[0], padding[2]) if dims == 2 else (padding[0], padding[1])
        x, padding = F.pad(x, sides), 0
    return fn(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)


def tri(like, n, axis, k, dtype):
    """An [n, n] mask of ones on and below diagonal k: n given, or axis "axis" of "like"."""
    size = n if n is not None else like.shape[axis]
    device = like.device if torch.is_tensor(like) else None
    return torch.tril(torch.ones(size, size, dtype=dtype, device=device), diagonal=k)


def masked_softmax(x, mask, axis):
    """Softmax over the elements whose mask is nonzero; 0 elsewhere and for a fully masked row
    (torch's softmax of masked_fill(-inf) would give NaN there, and NaN gradients)."""
    keep = torch.broadcast_to(mask != 0, x.shape)
    low = torch.finfo(x.dtype).min
    top = torch.amax(torch.where(keep, x, torch.full((), low, dtype=x.dtype, device=x.device)), dim=axis, keepdim=True)
    e = torch.where(keep, torch.exp(x - top.detach()), torch.zeros((), dtype=x.dtype, device=x.device))
    total = e.sum(dim=axis, keepdim=True)
    return e / torch.where(total > 0, total, torch.ones((), dtype=x.dtype, device=x.device))


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
