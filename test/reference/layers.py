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
    y = fn(xt, pt)
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
     lambda x, p: F.layer_norm(x, (d,), p['weight'], p['bias'], eps=1e-5))
case('layer_norm_eps', 'layer_norm', {'dim': 4, 'eps': 0.01}, rng.normal(size=(6, 4)) * 0.1,
     {'weight': rng.uniform(0.5, 1.5, 4), 'bias': rng.uniform(-0.5, 0.5, 4)},
     lambda x, p: F.layer_norm(x, (4,), p['weight'], p['bias'], eps=0.01))
case('rms_norm', 'rms_norm', {'dim': d}, x, {'weight': rng.uniform(0.5, 1.5, d)},
     lambda x, p: F.rms_norm(x, (d,), p['weight'], eps=1e-6))


def mha(x, p, heads, causal, pre=''):
    """torch's multi-head attention (F.multi_head_attention_forward, nn.MultiheadAttention's kernel)
    with graph-run's parameters: in_proj = [wq^T; wk^T; wv^T], out_proj = wo^T."""
    T = x.shape[1]
    g = lambda k: p[pre + k]
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1) if causal else None
    xt = x.transpose(0, 1)  # [T, B, E]
    y, _ = F.multi_head_attention_forward(
        xt, xt, xt, x.shape[2], heads,
        torch.cat([g('wq').T, g('wk').T, g('wv').T]), torch.cat([g('bq'), g('bk'), g('bv')]),
        None, None, False, 0.0, g('wo').T, g('bo'), training=False, need_weights=False, attn_mask=mask)
    return y.transpose(0, 1)


def attn_params(d, pre=''):
    ps = {}
    for k in ['wq', 'wk', 'wv', 'wo']:
        ps[pre + k] = rng.uniform(-0.6, 0.6, (d, d))
    for k in ['bq', 'bk', 'bv', 'bo']:
        ps[pre + k] = rng.uniform(-0.2, 0.2, d)
    return ps


B, T, d, H = 2, 5, 8, 2
xa = rng.normal(size=(B, T, d))
case('attention_causal', 'attention', {'dim': d, 'heads': H, 'head_dim': d // H, 'seq': T}, xa, attn_params(d),
     lambda x, p: mha(x, p, H, True))
case('attention_full', 'attention', {'dim': d, 'heads': 4, 'head_dim': 2, 'seq': T, 'causal': 0}, xa, attn_params(d),
     lambda x, p: mha(x, p, 4, False))
hidden = 16
bp = {'ln1/weight': rng.uniform(0.5, 1.5, d), 'ln1/bias': rng.uniform(-0.3, 0.3, d), **attn_params(d, 'attn/'),
      'ln2/weight': rng.uniform(0.5, 1.5, d), 'ln2/bias': rng.uniform(-0.3, 0.3, d),
      'w1': rng.uniform(-0.5, 0.5, (d, hidden)), 'b1': rng.uniform(-0.2, 0.2, hidden),
      'w2': rng.uniform(-0.5, 0.5, (hidden, d)), 'b2': rng.uniform(-0.2, 0.2, d)}


def block(x, p):
    h = x + mha(F.layer_norm(x, (d,), p['ln1/weight'], p['ln1/bias']), p, H, True, 'attn/')
    u = F.layer_norm(h, (d,), p['ln2/weight'], p['ln2/bias'])
    return h + F.gelu(u @ p['w1'] + p['b1']) @ p['w2'] + p['b2']


case('transformer_block', 'transformer_block', {'dim': d, 'heads': H, 'head_dim': d // H, 'seq': T, 'hidden': hidden},
     xa, bp, block)

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'layers.json'), 'w') as f:
    json.dump({'torch': torch.__version__, 'cases': cases}, f)
print(len(cases), 'cases')
