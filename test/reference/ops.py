# PyTorch reference for graph-run's ops: for each case, the inputs, torch's output and the
# gradient of sum(output * w) (w fixed random weights) with respect to every float input, in
# float64. Writes ops.json beside this file; test/ops/ops.test.ts compares graph-run with it.
# Run: python3 test/reference/ops.py   (any PyTorch from 1.13 on; the JSON records the version, is committed,
# and CI needs no torch). f64 values agree across versions to within a few ulps.
import json, os
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.RandomState(1234)
torch.set_default_dtype(torch.float64)


def away(shape, lo=-2.0, hi=2.0, gap=0.1):
    """Random values kept at least `gap` from 0 (kinks of relu, abs, ...)."""
    x = rng.uniform(lo, hi, size=shape)
    x = np.where(np.abs(x) < gap, np.sign(x + 1e-12) * gap + x, x)
    return x


def pos(shape, lo=0.5, hi=2.0):
    return rng.uniform(lo, hi, size=shape)


def ints(shape, hi):
    return rng.randint(0, hi, size=shape)


cases = []


def case(name, op, inputs, fn, attrs=None, grad=True):
    """inputs: list of (name, np array, dtype 'float'|'i32')."""
    tensors = []
    for (_, v, dt) in inputs:
        if dt == 'i32':
            tensors.append(torch.tensor(v, dtype=torch.int64))
        else:
            tensors.append(torch.tensor(v, dtype=torch.float64, requires_grad=grad))
    out = fn(*tensors)
    entry = {
        'name': name, 'op': op, 'attrs': attrs or {},
        'inputs': [{'name': n, 'dtype': dt, 'shape': list(np.shape(v)), 'data': np.asarray(v).reshape(-1).tolist()} for (n, v, dt) in inputs],
        'output': {'shape': list(out.shape), 'dtype': 'i32' if out.dtype in (torch.int64, torch.int32, torch.bool) else 'float',
                   'data': out.detach().to(torch.float64).reshape(-1).tolist()},
    }
    if grad and out.dtype == torch.float64:
        w = rng.uniform(-1, 1, size=tuple(out.shape))
        (out * torch.tensor(w)).sum().backward()
        entry['w'] = w.reshape(-1).tolist()
        entry['grads'] = {n: (t.grad.reshape(-1).tolist() if t.grad is not None else [0.0] * int(np.prod(np.shape(v)) or 1))
                          for (n, v, dt), t in zip(inputs, tensors) if dt == 'float'}
    cases.append(entry)


# Unary elementwise
for op, fn, gen in [
    ('neg', torch.neg, away), ('exp', torch.exp, away), ('log', torch.log, pos), ('sigmoid', torch.sigmoid, away),
    ('tanh', torch.tanh, away), ('relu', torch.relu, away), ('gelu', F.gelu, lambda s: away(s, -4, 4)),
    ('softplus', F.softplus, lambda s: np.concatenate([away((s[0] - 1, s[1]), -5, 5), [[25.0] * s[1]]])),
    ('sqrt', torch.sqrt, pos), ('abs', torch.abs, away), ('square', torch.square, away),
    ('sin', torch.sin, away), ('cos', torch.cos, away),
]:
    case(op, op, [('a', gen((3, 4)), 'float')], fn)
case('leaky_relu', 'leaky_relu', [('a', away((3, 4)), 'float')], lambda a: F.leaky_relu(a, 0.2), {'negative_slope': 0.2})
case('leaky_relu_default', 'leaky_relu', [('a', away((5,)), 'float')], lambda a: F.leaky_relu(a))
case('clip', 'clip', [('a', away((3, 4)) * 0.9 + 0.03, 'float')], lambda a: torch.clamp(a, -0.5, 0.7), {'min': -0.5, 'max': 0.7})
case('clip_min_only', 'clip', [('a', away((6,)), 'float')], lambda a: torch.clamp(a, min=0.25), {'min': 0.25})
case('floor', 'floor', [('a', away((2, 3)) * 3 + 0.05, 'float')], torch.floor, grad=False)
case('sign', 'sign', [('a', np.array([[-1.5, 0.0, 2.0], [0.25, -0.0, -3.0]]), 'float')], torch.sign, grad=False)
case('cast_i32', 'cast', [('a', np.array([-2.7, -0.5, 0.0, 0.9, 3.99, 7.0]), 'float')], lambda a: a.to(torch.int32), {'dtype': 'i32'}, grad=False)
case('cast_float', 'cast', [('a', away((2, 3)), 'float')], lambda a: a * 1.0, {'dtype': 'float'})

# Binary elementwise with broadcasting
case('add_bcast', 'add', [('a', away((2, 3)), 'float'), ('b', away((3,)), 'float')], torch.add)
case('sub_bcast', 'sub', [('a', away((2, 1)), 'float'), ('b', away((4,)), 'float')], torch.sub)
case('mul_bcast', 'mul', [('a', away((2, 3)), 'float'), ('b', away((2, 1)), 'float')], torch.mul)
case('div_bcast', 'div', [('a', away((3,)), 'float'), ('b', away((2, 3)), 'float')], torch.div)
case('pow', 'pow', [('a', pos((2, 3)), 'float'), ('b', away((3,)), 'float')], torch.pow)
x = away((2, 3)); y = away((2, 3))
case('maximum', 'maximum', [('a', x, 'float'), ('b', y, 'float')], torch.maximum)
case('minimum_bcast', 'minimum', [('a', x, 'float'), ('b', away((3,)), 'float')], torch.minimum)
for op, fn in [('greater', torch.gt), ('greater_equal', torch.ge), ('less', torch.lt), ('less_equal', torch.le), ('equal', torch.eq), ('not_equal', torch.ne)]:
    a = np.round(away((3, 4)) * 2) / 2
    b = np.round(away((4,)) * 2) / 2
    case(op, op, [('a', a, 'float'), ('b', b, 'float')], lambda a, b, fn=fn: fn(a, b).to(torch.float64), grad=False)

# Reductions
case('sum_axis_keep', 'sum', [('a', away((2, 3, 4)), 'float')], lambda a: a.sum(dim=1, keepdim=True), {'axis': 1, 'keepdims': True})
case('mean_axes', 'mean', [('a', away((2, 3, 4)), 'float')], lambda a: a.mean(dim=(0, 2)), {'axis': [0, 2]})
case('max_axis', 'max', [('a', away((3, 4)), 'float')], lambda a: torch.amax(a, dim=1), {'axis': 1})
case('min_all', 'min', [('a', away((3, 4)), 'float')], lambda a: torch.amin(a))
ties = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 0.5]])
case('max_ties', 'max', [('a', ties, 'float')], lambda a: torch.amax(a, dim=-1, keepdim=True), {'axis': -1, 'keepdims': True})
case('argmax', 'argmax', [('a', away((3, 5)), 'float')], lambda a: torch.argmax(a, dim=1), {'axis': 1}, grad=False)
case('argmax_ties', 'argmax', [('a', ties, 'float')], lambda a: torch.argmax(a, dim=1), {'axis': 1}, grad=False)
case('argmin_keep', 'argmin', [('a', away((3, 5)), 'float')], lambda a: torch.argmin(a, dim=0, keepdim=True), {'axis': 0, 'keepdims': True}, grad=False)
case('logsumexp', 'logsumexp', [('a', away((3, 4)) * 10, 'float')], lambda a: torch.logsumexp(a, dim=1), {'axis': 1})
case('logsumexp_keep', 'logsumexp', [('a', away((2, 3, 2)), 'float')], lambda a: torch.logsumexp(a, dim=(0, 2), keepdim=True), {'axis': [0, 2], 'keepdims': True})

# Softmax family
case('softmax', 'softmax', [('a', away((3, 4)) * 5, 'float')], lambda a: torch.softmax(a, dim=-1))
case('softmax_axis0', 'softmax', [('a', away((3, 4)), 'float')], lambda a: torch.softmax(a, dim=0), {'axis': 0})
case('log_softmax', 'log_softmax', [('a', away((3, 4)) * 50, 'float')], lambda a: torch.log_softmax(a, dim=-1))
case('log_softmax_3d', 'log_softmax', [('a', away((2, 3, 4)), 'float')], lambda a: torch.log_softmax(a, dim=1), {'axis': 1})

# Matrix products
case('matmul', 'matmul', [('a', away((2, 3)), 'float'), ('b', away((3, 4)), 'float')], torch.matmul)
case('matmul_vec', 'matmul', [('a', away((3,)), 'float'), ('b', away((3, 2)), 'float')], torch.matmul)
case('matmul_mv', 'matmul', [('a', away((2, 3)), 'float'), ('b', away((3,)), 'float')], torch.matmul)
case('matmul_batched', 'matmul', [('a', away((2, 3, 4)), 'float'), ('b', away((2, 4, 5)), 'float')], torch.matmul)
case('matmul_batched_shared', 'matmul', [('a', away((2, 3, 4)), 'float'), ('b', away((4, 5)), 'float')], torch.matmul)
case('matmul_tb', 'matmul', [('a', away((2, 3)), 'float'), ('b', away((4, 3)), 'float')], lambda a, b: a @ b.T, {'transpose_b': True})
case('matmul_ta', 'matmul', [('a', away((3, 2)), 'float'), ('b', away((3, 4)), 'float')], lambda a, b: a.T @ b, {'transpose_a': True})

# Shapes
case('reshape', 'reshape', [('a', away((2, 6)), 'float')], lambda a: a.reshape(3, 4), {'shape': [3, -1]})
case('transpose', 'transpose', [('a', away((2, 3, 4)), 'float')], lambda a: a.permute(2, 0, 1), {'perm': [2, 0, 1]})
case('transpose_default', 'transpose', [('a', away((2, 3)), 'float')], lambda a: a.T)
case('broadcast_to', 'broadcast_to', [('a', away((3, 1)), 'float')], lambda a: a.expand(2, 3, 4), {'shape': [2, 3, 4]})
case('concat', 'concat', [('a', away((2, 3)), 'float'), ('b', away((2, 2)), 'float'), ('c', away((2, 1)), 'float')], lambda a, b, c: torch.cat([a, b, c], dim=1), {'axis': 1})
case('concat0', 'concat', [('a', away((1, 3)), 'float'), ('b', away((2, 3)), 'float')], lambda a, b: torch.cat([a, b], dim=0))
case('slice', 'slice', [('a', away((4, 6)), 'float')], lambda a: a[1:4, 0:5:2], {'starts': [1, 0], 'ends': [4, 5], 'steps': [1, 2]})
case('slice_neg', 'slice', [('a', away((3, 5)), 'float')], lambda a: a[:, -3:], {'axes': [-1], 'starts': [-3], 'ends': [100]})
idx = ints((4, 1), 3)
case('gather', 'gather', [('a', away((4, 3)), 'float'), ('idx', idx, 'i32')], lambda a, i: torch.gather(a, 1, i), {'axis': 1})
idx2 = np.array([[0, 2, 2], [1, 0, 2]])
case('gather_repeat', 'gather', [('a', away((2, 3)), 'float'), ('idx', idx2, 'i32')], lambda a, i: torch.gather(a, 1, i), {'axis': -1})
idx3 = ints((2, 3), 4)
case('gather_axis0', 'gather', [('a', away((4, 3)), 'float'), ('idx', idx3, 'i32')], lambda a, i: torch.gather(a, 0, i), {'axis': 0})
case('one_hot', 'one_hot', [('labels', ints((5,), 4), 'i32')], lambda l: F.one_hot(l, 4).to(torch.float64), {'classes': 4}, grad=False)
cond = (rng.uniform(size=(2, 3)) > 0.5).astype(np.float64)
case('where', 'where', [('c', cond, 'float'), ('a', away((2, 3)), 'float'), ('b', away((3,)), 'float')], lambda c, a, b: torch.where(c != 0, a, b))
case('stop_gradient', 'stop_gradient', [('a', away((2, 3)), 'float')], lambda a: a.detach() + 0 * a)  # + 0*a: torch then reports a zero gradient
case('silu', 'silu', [('a', np.concatenate([away((3, 4), -6, 6), [[-40.0, -15.0, 15.0, 40.0]]]), 'float')], F.silu)

# Attention and sequence models: rsqrt, erf, embedding lookup, the causal mask, masked softmax.
case('rsqrt', 'rsqrt', [('a', pos((3, 4), 0.1, 4.0), 'float')], torch.rsqrt)
case('erf', 'erf', [('a', np.concatenate([away((3, 4), -3.5, 3.5), [[-6.0, -3.2, 3.2, 6.0]]]), 'float')], torch.erf)
case('embedding', 'embedding', [('table', away((5, 3)), 'float'), ('ids', np.array([[0, 4, 4, 1], [2, 0, 4, 3]]), 'i32')],
     lambda t, i: F.embedding(i, t))
case('embedding_1d', 'embedding', [('table', away((7, 4)), 'float'), ('ids', ints((6,), 7), 'i32')], lambda t, i: F.embedding(i, t))
case('tri', 'tri', [], lambda: torch.tril(torch.ones(4, 4)), {'n': 4}, grad=False)
case('tri_from_axis', 'tri', [('a', away((2, 5, 3)), 'float')], lambda a: torch.tril(torch.ones(5, 5), diagonal=-1), {'axis': 1, 'k': -1}, grad=False)


def masked_softmax(x, c, axis=-1):
    """Softmax over the kept elements; 0 where masked and for rows with nothing kept (PyTorch gives NaN there)."""
    m = (c != 0).expand_as(x)
    kept = m.any(dim=axis, keepdim=True)
    xs = torch.where(kept, x.masked_fill(~m, float('-inf')), torch.zeros_like(x))
    return torch.softmax(xs, dim=axis) * m


pad = np.array([[1, 1, 0, 0], [0, 0, 0, 0], [1, 0, 1, 1]], dtype=np.float64)  # row 1: nothing kept
case('masked_softmax', 'masked_softmax', [('a', away((2, 3, 4)) * 3, 'float'), ('c', pad, 'float')], masked_softmax)
case('masked_softmax_causal', 'masked_softmax', [('a', away((2, 4, 4)) * 3, 'float'), ('c', np.tril(np.ones((4, 4))), 'float')], masked_softmax)
case('masked_softmax_axis1', 'masked_softmax', [('a', away((3, 4, 2)), 'float'), ('c', np.array([[1.0], [0.0], [1.0], [1.0]]), 'float')],
     lambda a, c: masked_softmax(a, c, 1), {'axis': 1})

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ops.json'), 'w') as f:
    json.dump({'torch': torch.__version__, 'cases': cases}, f)
print(len(cases), 'cases')
