# PyTorch reference for graph-run's training metrics (runtime/train/metrics.ts): per-position
# accuracy, top-k accuracy and perplexity of [N, T, C] logits against [N, T] labels (and
# against the argmax of a second set of logits: a target that is not an input), accuracy and
# top-k against one-hot rows, binary accuracy of probabilities and of logits, and the mean
# cross-entropy over every position (the loss). Writes metrics.json beside this file
# (test/train/metrics.test.ts compares graph-run with it; CI needs only the JSON).
# Run: /work/venv-ops/bin/python test/reference/metrics.py
import json, os
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.RandomState(7)
N, T, C = 10, 4, 6
logits = rng.normal(0, 1.5, size=(N, T, C)).round(4)
teacher = rng.normal(0, 1.5, size=(N, T, C)).round(4)
# Labels right about 40% of the time, so per-position accuracy is far from 0 and from 1.
y = np.where(rng.uniform(size=(N, T)) < 0.4, logits.argmax(-1), rng.randint(0, C, size=(N, T)))

L = torch.tensor(logits, dtype=torch.float64)
Y = torch.tensor(y)
TE = torch.tensor(teacher, dtype=torch.float64).argmax(-1)


def accuracy(lg, lab):
    return (lg.argmax(-1) == lab).double().mean().item()


def topk(lg, lab, k):
    idx = lg.topk(k, dim=-1).indices
    return (idx == lab.unsqueeze(-1)).any(-1).double().mean().item()


ce = F.cross_entropy(L.reshape(-1, C), Y.reshape(-1)).item()
sequence = dict(
    N=N, T=T, C=C,
    logits=logits.tolist(), teacher=teacher.tolist(), y=y.tolist(),
    loss=ce,
    accuracy=accuracy(L, Y),
    top3_accuracy=topk(L, Y, 3),
    perplexity=float(np.exp(ce)),
    teacher_accuracy=accuracy(L, TE),
    teacher_top2_accuracy=topk(L, TE, 2),
    teacher_perplexity=float(np.exp(F.cross_entropy(L.reshape(-1, C), TE.reshape(-1)).item())),
    # What the old flattened-row rule gave: argmax over T*C values against a label in [0, C).
    flattened_accuracy=(L.reshape(N, -1).argmax(-1) == Y[:, 0]).double().mean().item(),
)

M, K = 9, 4
x2 = rng.normal(0, 1, size=(M, K)).round(4)
hot = np.eye(K)[rng.randint(0, K, size=M)]
X2 = torch.tensor(x2, dtype=torch.float64)
H = torch.tensor(hot).argmax(-1)
soft_target = torch.tensor(hot, dtype=torch.float64)
onehot = dict(
    x=x2.tolist(), onehot=hot.tolist(),
    accuracy=accuracy(X2, H),
    top2_accuracy=topk(X2, H, 2),
    # Cross-entropy against a probability row: -sum t log softmax(x).
    perplexity=float(np.exp(-(soft_target * F.log_softmax(X2, -1)).sum(-1).mean().item())),
)

z = rng.normal(0, 1, size=(M, 1)).round(4)
yb = (rng.uniform(size=M) < 0.5).astype(np.float64)
Z = torch.tensor(z[:, 0])
YB = torch.tensor(yb)
binary = dict(
    z=z.tolist(), yb=yb.tolist(),
    logit_accuracy=((Z > 0).double() == (YB > 0.5).double()).double().mean().item(),
    prob_accuracy=((torch.sigmoid(Z) > 0.5).double() == (YB > 0.5).double()).double().mean().item(),
)

out = dict(torch=torch.__version__, sequence=sequence, onehot=onehot, binary=binary)
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'metrics.json'), 'w') as f:
    json.dump(out, f)
    f.write('\n')
print({k: v for k, v in sequence.items() if not isinstance(v, list)})
print({k: v for k, v in onehot.items() if not isinstance(v, list)})
print({k: v for k, v in binary.items() if not isinstance(v, list)})
