# PyTorch reference for graph-run's convolution, pooling and padding ops, in the format of
# ops.py (each case: inputs, torch's output and the gradient of sum(output * w) for every float
# input, float64). Writes conv.json beside this file; test/ops/ops.test.ts and the WebGPU
# executor suite run every case. Run: /work/venv-ops/bin/python test/reference/conv.py
# (any PyTorch from 1.13 on; the JSON records the version and is committed: CI needs no torch).
# Append new cases at the end: the cases share one random stream.
import json, os
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.RandomState(4321)
torch.set_default_dtype(torch.float64)


def away(shape, lo=-2.0, hi=2.0, gap=0.1):
    x = rng.uniform(lo, hi, size=shape)
    return np.where(np.abs(x) < gap, np.sign(x + 1e-12) * gap + x, x)


cases = []


def case(name, op, inputs, fn, attrs=None, grad=True):
    tensors = [torch.tensor(v, dtype=torch.float64, requires_grad=grad) for (_, v) in inputs]
    out = fn(*tensors)
    entry = {
        'name': name, 'op': op, 'attrs': attrs or {},
        'inputs': [{'name': n, 'dtype': 'float', 'shape': list(np.shape(v)), 'data': np.asarray(v).reshape(-1).tolist()} for (n, v) in inputs],
        'output': {'shape': list(out.shape), 'dtype': 'float', 'data': out.detach().reshape(-1).tolist()},
    }
    if grad:
        w = rng.uniform(-1, 1, size=tuple(out.shape))
        (out * torch.tensor(w)).sum().backward()
        entry['w'] = w.reshape(-1).tolist()
        entry['grads'] = {n: t.grad.reshape(-1).tolist() for (n, _), t in zip(inputs, tensors)}
    cases.append(entry)


# conv2d: padding is graph-run's [top, left, bottom, right]; F.pad takes (left, right, top, bottom).
case('conv2d', 'conv2d', [('x', away((2, 3, 5, 6))), ('k', away((4, 3, 3, 3))), ('b', away((4,)))],
     lambda x, k, b: F.conv2d(x, k, b))
case('conv2d_stride_pad', 'conv2d', [('x', away((2, 2, 7, 6))), ('k', away((3, 2, 3, 2))), ('b', away((3,)))],
     lambda x, k, b: F.conv2d(x, k, b, stride=(2, 3), padding=(1, 2)), {'stride': [2, 3], 'padding': [1, 2]})
case('conv2d_dilation_nobias', 'conv2d', [('x', away((1, 2, 7, 7))), ('k', away((2, 2, 3, 2)))],
     lambda x, k: F.conv2d(x, k, dilation=(2, 3), padding=1), {'dilation': [2, 3], 'padding': 1})
case('conv2d_groups', 'conv2d', [('x', away((2, 4, 5, 5))), ('k', away((6, 2, 3, 3))), ('b', away((6,)))],
     lambda x, k, b: F.conv2d(x, k, b, groups=2, padding=1, stride=2), {'groups': 2, 'padding': 1, 'stride': 2})
case('conv2d_same_even', 'conv2d', [('x', away((1, 2, 5, 6))), ('k', away((3, 2, 4, 2))), ('b', away((3,)))],
     lambda x, k, b: F.conv2d(x, k, b, padding='same'), {'padding': 'same'})
case('conv2d_asymmetric', 'conv2d', [('x', away((2, 1, 4, 5))), ('k', away((2, 1, 2, 3)))],
     lambda x, k: F.conv2d(F.pad(x, (2, 0, 0, 1)), k, stride=(1, 2)), {'padding': [0, 2, 1, 0], 'stride': [1, 2]})
case('conv2d_depthwise_same_dilated', 'conv2d', [('x', away((1, 3, 6, 5))), ('k', away((3, 1, 3, 3))), ('b', away((3,)))],
     lambda x, k, b: F.conv2d(x, k, b, groups=3, padding='same', dilation=2), {'groups': 3, 'padding': 'same', 'dilation': 2})
# conv1d
case('conv1d', 'conv1d', [('x', away((2, 3, 9))), ('k', away((4, 3, 3))), ('b', away((4,)))],
     lambda x, k, b: F.conv1d(x, k, b, stride=2, padding=1), {'stride': 2, 'padding': 1})
case('conv1d_groups_dilation', 'conv1d', [('x', away((1, 4, 10))), ('k', away((2, 2, 3)))],
     lambda x, k: F.conv1d(x, k, groups=2, dilation=3), {'groups': 2, 'dilation': 3})
case('conv1d_same', 'conv1d', [('x', away((2, 2, 7))), ('k', away((3, 2, 4))), ('b', away((3,)))],
     lambda x, k, b: F.conv1d(x, k, b, padding='same'), {'padding': 'same'})
case('conv1d_asymmetric', 'conv1d', [('x', away((1, 2, 6))), ('k', away((2, 2, 2)))],
     lambda x, k: F.conv1d(F.pad(x, (0, 3)), k, stride=2), {'padding': [0, 3], 'stride': 2})

# Pooling. Distinct values away from ties, except the tie case (PyTorch: the first maximum of a
# window, row-major, gets the gradient).
def distinct(shape):
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) - n / 2) / 7.0 + rng.uniform(-0.02, 0.02, size=shape)

case('max_pool2d', 'max_pool2d', [('x', distinct((2, 2, 6, 6)))], lambda x: F.max_pool2d(x, 2), {'kernel': 2})
case('max_pool2d_overlap_pad', 'max_pool2d', [('x', distinct((1, 2, 7, 6)))],
     lambda x: F.max_pool2d(x, (3, 2), stride=(2, 1), padding=1), {'kernel': [3, 2], 'stride': [2, 1], 'padding': 1})
case('max_pool2d_ceil', 'max_pool2d', [('x', distinct((1, 1, 7, 5)))],
     lambda x: F.max_pool2d(x, 3, stride=2, ceil_mode=True), {'kernel': 3, 'stride': 2, 'ceil_mode': True})
ties = np.array([[[[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 1.0, 3.0], [0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 2.0]]]])
case('max_pool2d_ties', 'max_pool2d', [('x', ties)], lambda x: F.max_pool2d(x, 2, stride=1), {'kernel': 2, 'stride': 1})
case('avg_pool2d', 'avg_pool2d', [('x', away((2, 2, 6, 6)))], lambda x: F.avg_pool2d(x, 2), {'kernel': 2})
case('avg_pool2d_pad', 'avg_pool2d', [('x', away((1, 2, 5, 6)))],
     lambda x: F.avg_pool2d(x, 3, stride=2, padding=1), {'kernel': 3, 'stride': 2, 'padding': 1})
case('avg_pool2d_pad_exclude', 'avg_pool2d', [('x', away((1, 2, 5, 6)))],
     lambda x: F.avg_pool2d(x, (3, 2), stride=(2, 2), padding=1, count_include_pad=False),
     {'kernel': [3, 2], 'stride': 2, 'padding': 1, 'count_include_pad': False})
case('avg_pool2d_ceil', 'avg_pool2d', [('x', away((1, 1, 6, 7)))],
     lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True), {'kernel': 3, 'stride': 2, 'padding': 1, 'ceil_mode': True})

# pad: graph-run's `pads` are [before, after] pairs for the last axes, first pair first.
case('pad_constant', 'pad', [('x', away((2, 3, 4)))], lambda x: F.pad(x, (2, 1, 0, 2), value=0.5),
     {'pads': [[0, 2], [2, 1]], 'value': 0.5})
case('pad_reflect', 'pad', [('x', away((1, 2, 4, 5)))], lambda x: F.pad(x, (2, 4, 3, 1), mode='reflect'),
     {'pads': [[3, 1], [2, 4]], 'mode': 'reflect'})
case('pad_replicate', 'pad', [('x', away((1, 2, 3, 4)))], lambda x: F.pad(x, (3, 1, 0, 2), mode='replicate'),
     {'pads': [[0, 2], [3, 1]], 'mode': 'replicate'})
case('pad_constant_all_axes', 'pad', [('x', away((2, 3)))], lambda x: F.pad(x, (1, 0, 0, 2)),
     {'pads': [[0, 2], [1, 0]]})

# The 2x2 stride-2 window (its own unrolled CPU kernel), with ties inside windows.
ties2 = np.array([[[[2.0, 2.0, 1.0, 3.0, 0.5], [1.0, 2.0, 3.0, 3.0, 9.0], [-1.0, -1.0, 4.0, 0.0, 9.0], [-1.0, -1.0, 0.0, 4.0, 9.0]]]])
case('max_pool2d_ties_2x2', 'max_pool2d', [('x', ties2)], lambda x: F.max_pool2d(x, 2), {'kernel': 2})

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'conv.json'), 'w') as f:
    json.dump({'torch': torch.__version__, 'cases': cases}, f)
print(len(cases), 'cases')
