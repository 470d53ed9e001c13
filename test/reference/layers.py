# PyTorch reference for the layers of graphs/lib/layers/ (layer_norm.yaml, rms_norm.yaml,
# attention.yaml, transformer_block.yaml, linear.yaml, mlp.yaml): for random inputs and parameters,
# torch's output and the gradients of sum(y * w) (w fixed random weights) with respect to the input
# and every parameter, in float64. Cases with `repeat` use the layer with `repeat: N`: N copies
# applied one after the other, each with its own parameters (block0/..., block1/...). `init` holds
# nn.Linear's initialisation bounds (reset_parameters) for the linear layer's weight and bias.
# Writes layers.json beside this file; test/train/layers.test.ts compares graph-run with it.
# Run: /work/venv-ops/bin/python test/reference/layers.py
import json, math, os
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


def case(name, layer, with_, x, params, fn, repeat=None):
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
        **({'repeat': repeat} if repeat else {}),
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



# linear.yaml: torch.nn.Linear's layout, weight [out, in], y = x W^T + b.
def linear_params(n_in, n_out, pre=''):
    return {pre + 'weight': rng.uniform(-0.8, 0.8, (n_out, n_in)), pre + 'bias': rng.uniform(-0.3, 0.3, n_out)}


def linear(x, p, pre=''):
    return F.linear(x, p[pre + 'weight'], p[pre + 'bias'])


def mlp(x, p, pre=''):
    return linear(F.relu(linear(x, p, pre + 'fc1/')), p, pre + 'fc2/')


case('linear', 'linear', {'in': 5, 'out': 3}, rng.normal(size=(4, 5)), linear_params(5, 3), linear)
case('linear_rank3', 'linear', {'in': 4, 'out': 6}, rng.normal(size=(2, 3, 4)), linear_params(4, 6), linear)
case('mlp', 'mlp', {'in': 5, 'hidden': 7, 'out': 2}, rng.normal(size=(4, 5)),
     {**linear_params(5, 7, 'fc1/'), **linear_params(7, 2, 'fc2/')}, mlp)

# repeat: N copies chained, copy i's parameters under block<i>/.
lp = {k: v for i in range(3) for k, v in linear_params(4, 4, f'block{i}/').items()}
case('linear_repeat3', 'linear', {'in': 4, 'out': 4}, rng.normal(size=(5, 4)), lp,
     lambda x, p: linear(linear(linear(x, p, 'block0/'), p, 'block1/'), p, 'block2/'), repeat=3)
mp = {k: v for i in range(2) for k, v in {**linear_params(5, 9, f'block{i}/fc1/'), **linear_params(9, 5, f'block{i}/fc2/')}.items()}
case('mlp_repeat2', 'mlp', {'in': 5, 'hidden': 9, 'out': 5}, rng.normal(size=(3, 5)), mp,
     lambda x, p: mlp(mlp(x, p, 'block0/'), p, 'block1/'), repeat=2)
bp2 = {}
for i in range(2):
    bp2.update({f'block{i}/ln1/weight': rng.uniform(0.5, 1.5, d), f'block{i}/ln1/bias': rng.uniform(-0.3, 0.3, d),
                **attn_params(d, f'block{i}/attn/'),
                f'block{i}/ln2/weight': rng.uniform(0.5, 1.5, d), f'block{i}/ln2/bias': rng.uniform(-0.3, 0.3, d),
                f'block{i}/w1': rng.uniform(-0.5, 0.5, (d, hidden)), f'block{i}/b1': rng.uniform(-0.2, 0.2, hidden),
                f'block{i}/w2': rng.uniform(-0.5, 0.5, (hidden, d)), f'block{i}/b2': rng.uniform(-0.2, 0.2, d)})


def copy(p, pre):
    return {k[len(pre):]: v for k, v in p.items() if k.startswith(pre)}


case('transformer_block_repeat2', 'transformer_block',
     {'dim': d, 'heads': H, 'head_dim': d // H, 'seq': T, 'hidden': hidden}, rng.normal(size=(B, T, d)), bp2,
     lambda x, p: block(block(x, copy(p, 'block0/')), copy(p, 'block1/')), repeat=2)

# nn.Linear's initialisation (reset_parameters): weight kaiming_uniform_(a=sqrt(5)), bias U(-1/sqrt(in), 1/sqrt(in)).
lin = torch.nn.Linear(5, 3)
fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(lin.weight)
init = {'linear': {'in': 5, 'out': 3,
                   'weight_bound': torch.nn.init.calculate_gain('leaky_relu', math.sqrt(5)) * math.sqrt(3.0 / fan_in),
                   'bias_bound': 1 / math.sqrt(fan_in),
                   'torch_weight_max': float(lin.weight.detach().abs().max()), 'torch_bias_max': float(lin.bias.detach().abs().max())}}

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'layers.json'), 'w') as f:
    json.dump({'torch': torch.__version__, 'cases': cases, 'init': init}, f)
print(len(cases), 'cases')
