// data.py of a PyTorch export (pytorch.ts): the data files graph-run reads (docs/data.md) as one
// array per input, the Dataset over them, and the sampler that gives each process its share of
// graph-run's global batches in graph-run's seeded order.

export const DATA_PY = `"""The data section of an exported graph: the files graph-run reads (its docs/data.md), read into
one array per input; the Dataset over them; and the sampler that gives each process its share of
graph-run's global batches, in graph-run's seeded order."""

import gzip
import json
import os
import struct

import numpy as np
import torch

from support import load_safetensors, shuffled_order


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
`;
