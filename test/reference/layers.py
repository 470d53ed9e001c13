# PyTorch reference for the layers of graphs/lib/layers/ (layer_norm.yaml, rms_norm.yaml,
# attention.yaml, transformer_block.yaml): for random inputs and parameters, torch's output and the
# gradients of sum(y * w) (w fixed random weights) with respect to the input and every parameter,
# in float64. Writes layers.json beside this file; test/train/layers.test.ts compares graph-run with it.
# Run: /work/venv-ops/bin/python test/reference/layers.py
import json, os
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.RandomState(2024)
torch.set_default_dtype(torch.float64)


def t(a):
    return torch.tensor(a, requires_grad=True)


def flat(a):
    return np.asarray(a.detach() if torch.is_tensor(a) else a).reshape(-1).tolist()


cases = []


def case(name, layer, with_, x, params, fn):
    xt = t(x)
    pt = {k: t(v) for k, v in params.items()}
    y = fn(xt, **pt)
    w = rng.uniform(-1, 1, size=tuple(y.shape))
    (y * torch.tensor(w)).sum().backward()
    cases.append({
        'name': name, 'layer': layer, 'with': with_,
        'x': {'shape': list(x.shape), 'data': flat(x)},
        'params': {k: {'shape': list(np.shape(v)), 'data': flat(v)} for k, v in params.items()},
        'y': {'shape': list(y.shape), 'data': flat(y)}, 'w': flat(w),
        'grads': {'x': flat(xt.grad), **{k: flat(p.grad) for k, p in pt.items()}},
    })


d = 8
x = rng.normal(size=(3, 5, d)) * 2 + 0.5
case('layer_norm', 'layer_norm', {'dim': d}, x, {'weight': rng.uniform(0.5, 1.5, d), 'bias': rng.uniform(-0.5, 0.5, d)},
     lambda x, weight, bias: F.layer_norm(x, (d,), weight, bias, eps=1e-5))
case('layer_norm_eps', 'layer_norm', {'dim': 4, 'eps': 0.01}, rng.normal(size=(6, 4)) * 0.1,
     {'weight': rng.uniform(0.5, 1.5, 4), 'bias': rng.uniform(-0.5, 0.5, 4)},
     lambda x, weight, bias: F.layer_norm(x, (4,), weight, bias, eps=0.01))
case('rms_norm', 'rms_norm', {'dim': d}, x, {'weight': rng.uniform(0.5, 1.5, d)},
     lambda x, weight: F.rms_norm(x, (d,), weight, eps=1e-6))

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'layers.json'), 'w') as f:
    json.dump({'torch': torch.__version__, 'cases': cases}, f)
print(len(cases), 'cases')
