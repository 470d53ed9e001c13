# Reference for graph-run's `sample` op (runtime/ops/sample.ts), written from its documentation
# (docs/ops.md): the draw of row r at counter c is u = (word 0 of threefry(seed, fnv1a("sample:" + node),
# r, c)) >> 8, over 2^24; the id is the first j (in order, among the kept logits) whose cumulative
# weight exp((x_j - max) / temperature) exceeds u times the row's total; top_k keeps the logits at or
# above the k-th largest (ties counted once per element). Also PyTorch's softmax probabilities of the
# same rows, which the test compares with the ids' frequencies over many counters.
# Run: /work/venv-ops/bin/python test/reference/sample.py  (writes sample.json beside this file)
import json, os
import numpy as np
import torch
from streams import threefry2x32, fnv1a32

M32 = 0xFFFFFFFF


def kth_largest(row, k):
    t, count = np.inf, 0
    while count < k:
        below = row[row < t]
        if below.size == 0:
            break
        t = below.max()
        count += int((row == t).sum())
    return t


def sample(logits, seed, node, counter, temperature=1.0, top_k=None):
    k0, k1 = seed & M32, fnv1a32('sample:' + node)
    rows = logits.reshape(-1, logits.shape[-1])
    ids = []
    for r, row in enumerate(rows):
        t = kth_largest(row, top_k) if top_k else -np.inf
        kept = row >= t
        m = row[kept].max()
        w = np.where(kept, np.exp((row - m) / temperature), 0.0)
        u = (threefry2x32(k0, k1, r, counter)[0] >> 8) / 16777216.0
        target, acc, pick = u * w.sum(), 0.0, -1
        for j in range(len(row)):
            if not kept[j]:
                continue
            pick = j
            acc += w[j]
            if acc > target:
                break
        ids.append(pick)
    return np.array(ids).reshape(logits.shape[:-1])


rng = np.random.RandomState(7)
logits = rng.uniform(-2, 2, size=(2, 3, 5)).round(3)
logits[1, 2] = [0.5, 0.5, 0.5, -1.0, 0.5]  # ties at the top
cases = []
for temperature, top_k in [(1.0, None), (0.7, None), (1.5, 2), (1.0, 3)]:
    for counter in [0, 1, 17]:
        cases.append({'temperature': temperature, 'top_k': top_k, 'counter': counter,
                      'ids': sample(logits, 3, 'next', counter, temperature, top_k).tolist()})
# Frequencies over 4,000 counters of one row against PyTorch's softmax.
row = np.array([1.0, 0.2, -0.5, 2.0, 0.0])
draws = [int(sample(row[None, :], 11, 'next', c, 0.8)[0]) for c in range(4000)]
probs = torch.softmax(torch.tensor(row) / 0.8, dim=-1).tolist()
out = {'torch': torch.__version__, 'seed': 3, 'node': 'next', 'logits': {'shape': list(logits.shape), 'data': logits.reshape(-1).tolist()},
       'cases': cases, 'freq': {'seed': 11, 'row': row.tolist(), 'temperature': 0.8, 'draws': 4000, 'probs': probs,
                                'counts': np.bincount(draws, minlength=5).tolist()}}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'sample.json'), 'w') as f:
    json.dump(out, f)
print(len(cases), 'cases', out['freq']['counts'], [round(p * 4000) for p in probs])
