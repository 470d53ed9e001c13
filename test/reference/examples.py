# PyTorch reference for the example graphs (graphs/xor.yaml, blobs.yaml, linreg.yaml,
# mlp_dropout.yaml): the same models, data, initial values, optimizers, schedules, clipping,
# per-epoch shuffling and dropout masks, trained in float64 and float32. Initial values and data
# are read from the graphs and their files; the seeded choices (shuffling, dropout) use
# graph-run's documented generator (docs/init.md), reimplemented below in Python.
# Writes examples.json beside this file (test/train/examples.test.ts compares graph-run with it).
# Run: /usr/bin/python3 test/reference/examples.py   (PyTorch 1.13, PyYAML; CI needs only the JSON)
import json, math, os, sys
import numpy as np
import torch
import torch.nn.functional as F
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from streams import dropout_mask, shuffled_order  # noqa: E402  (graph-run's seeded streams, in Python)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')


# --- graphs and data ----------------------------------------------------------------------------
def graph(name):
    with open(os.path.join(ROOT, 'graphs', name)) as f:
        return yaml.safe_load(f)


def init(g, name):
    spec = g['params'][name]['init']
    shape = g['params'][name]['shape']
    if isinstance(spec, (int, float)):
        return np.full(shape, float(spec))
    if 'file' in spec:
        with open(os.path.join(ROOT, 'graphs', spec['file'])) as f:
            return np.array(json.load(f), dtype=np.float64)
    return np.array(spec['values'], dtype=np.float64).reshape(shape)


def csv(path):
    with open(os.path.join(ROOT, 'graphs', path)) as f:
        header = f.readline().strip().split(',')
        rows = [[float(v) for v in line.strip().split(',')] for line in f if line.strip()]
    return {h: np.array([r[k] for r in rows]) for k, h in enumerate(header)}


def linear(x, w, b):
    return x @ w.T + b


def accuracy_classes(logits, labels):
    return (logits.argmax(dim=-1) == labels).double().mean().item()


def train(spec, dtype):
    """Generic loop: epochs of (shuffled) minibatches; metrics after logged epochs."""
    g = spec['graph']
    params = {k: torch.tensor(init(g, k), dtype=dtype, requires_grad=True) for k in g['params']}
    opt, sched = spec['optimizer'](params)
    data = {k: (torch.tensor(v, dtype=torch.int64) if k in spec.get('ints', ()) else torch.tensor(v, dtype=dtype)) for k, v in spec['train'].items()}
    val = {k: (torch.tensor(v, dtype=torch.int64) if k in spec.get('ints', ()) else torch.tensor(v, dtype=dtype)) for k, v in spec.get('val', {}).items()}
    n = len(next(iter(data.values())))
    t = g['training']
    bs, seed = t['batch_size'], g.get('seed', 0)
    steps = math.ceil(n / bs)
    log = []
    for epoch in range(t['epochs']):
        order = shuffled_order(seed, n, epoch) if t.get('shuffle') else list(range(n))
        for k, s in enumerate(range(0, n, bs)):
            idx = torch.tensor(order[s:s + bs])
            batch = {name: v[idx] for name, v in data.items()}
            opt.zero_grad()
            loss = spec['loss'](spec['forward'](params, batch, epoch * steps + k + 1, dtype), batch)
            loss.backward()
            if 'clip' in spec:
                torch.nn.utils.clip_grad_norm_(list(params.values()), spec['clip'])
            opt.step()
        if sched is not None:
            sched.step()
        if epoch % t.get('log_every', 1) == 0:
            rec = {'epoch': epoch}
            with torch.no_grad():
                for prefix, d in [('', data), ('val_', val)]:
                    if not d:
                        continue
                    out = spec['forward'](params, d, 0, dtype)
                    rec[prefix + 'loss'] = spec['loss'](out, d).item()
                    if 'accuracy' in spec:
                        rec[prefix + 'accuracy'] = spec['accuracy'](out, d)
            log.append(rec)
    with torch.no_grad():
        preds = {name: spec['forward'](params, {'x': torch.tensor(q['x'], dtype=dtype).reshape(-1, len(q['x']) if not isinstance(q['x'][0], list) else len(q['x'][0]))}, 0, dtype).double().reshape(-1).tolist()
                 for name, q in g.get('predict', {}).items()}
    return {'log': log, 'params': {k: v.detach().double().reshape(-1).tolist() for k, v in params.items()}, 'predictions': preds}


# --- the examples -------------------------------------------------------------------------------
examples = {}

g = graph('xor.yaml')
examples['xor'] = dict(
    graph=g,
    train={'x': np.array(g['training']['data']['x'], dtype=np.float64), 'y': np.array(g['training']['data']['y'], dtype=np.float64)},
    forward=lambda p, b, step, dt: linear(torch.tanh(linear(b['x'], p['w1'], p['b1'])), p['w2'], p['b2']).reshape(-1),
    loss=lambda out, b: F.binary_cross_entropy_with_logits(out, b['y']),
    accuracy=lambda out, b: ((out > 0).double() == (b['y'] > 0.5).double()).double().mean().item(),
    optimizer=lambda p: (torch.optim.Adam(p.values(), lr=0.05), None),
    predict_output='sigmoid',
)

g = graph('blobs.yaml')
d = csv(g['training']['data']['file'])
x = np.stack([d['x1'], d['x2']], axis=1)
lab = d['label'].astype(np.int64)
cut = int(math.floor(len(x) * (1 - g['training']['validation']['split'])))
examples['blobs'] = dict(
    graph=g, ints=('label',),
    train={'x': x[:cut], 'label': lab[:cut]}, val={'x': x[cut:], 'label': lab[cut:]},
    forward=lambda p, b, step, dt: linear(torch.relu(linear(b['x'], p['w1'], p['b1'])), p['w2'], p['b2']),
    loss=lambda out, b: F.cross_entropy(out, b['label']),
    accuracy=lambda out, b: accuracy_classes(out, b['label']),
    optimizer=lambda p: (torch.optim.SGD(p.values(), lr=0.05, momentum=0.9), None),
    predict_output='softmax',
)

g = graph('linreg.yaml')
d = csv(g['training']['data']['file'])
v = csv(g['training']['validation']['file'])
examples['linreg'] = dict(
    graph=g,
    train={'x': np.stack([d['size'], d['age'], d['rooms']], axis=1), 'price': d['price']},
    val={'x': np.stack([v['size'], v['age'], v['rooms']], axis=1), 'price': v['price']},
    forward=lambda p, b, step, dt: linear(b['x'], p['w'], p['b']).reshape(-1),
    loss=lambda out, b: F.mse_loss(out, b['price']),
    optimizer=lambda p: (torch.optim.AdamW([{'params': [p['w']]}, {'params': [p['b']], 'weight_decay': 0.0}], lr=0.1, weight_decay=0.01), None),
)

g = graph('mlp_dropout.yaml')
d = csv(g['training']['data']['file'])
x = np.stack([d['x1'], d['x2']], axis=1)
lab = d['label'].astype(np.int64)
cut = int(math.floor(len(x) * (1 - g['training']['validation']['split'])))
SEED = g['seed']


def mlp_forward(p, b, step, dt):
    def drop(h, node):
        if step == 0:  # not a training step: dropout is the identity
            return h
        m = dropout_mask(SEED, node, 0.2, step, h.numel()).reshape(h.shape)
        return h * torch.tensor(m * (1 / (1 - 0.2)), dtype=dt)
    h1 = drop(F.gelu(linear(b['x'], p['w1'], p['b1'])), 'd1')
    h2 = drop(F.gelu(linear(h1, p['w2'], p['b2'])), 'd2')
    h3 = F.gelu(linear(h2, p['w3'], p['b3']))
    return linear(h3, p['w4'], p['b4'])


def mlp_optimizer(p):
    o = torch.optim.AdamW([{'params': [p[k] for k in p if k.startswith('w')]},
                           {'params': [p[k] for k in p if k.startswith('b')], 'weight_decay': 0.0}], lr=0.01, weight_decay=0.01)
    return o, torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=80)


examples['mlp_dropout'] = dict(
    graph=g, ints=('label',),
    train={'x': x[:cut], 'label': lab[:cut]}, val={'x': x[cut:], 'label': lab[cut:]},
    forward=mlp_forward,
    loss=lambda out, b: F.cross_entropy(out, b['label']),
    accuracy=lambda out, b: accuracy_classes(out, b['label']),
    optimizer=mlp_optimizer, clip=1.0,
)

out = {'torch': torch.__version__, 'examples': {}}
for name, spec in examples.items():
    res = {}
    for dtname, dt in [('f64', torch.float64), ('f32', torch.float32)]:
        r = train(spec, dt)
        if spec.get('predict_output') == 'sigmoid':
            r['predictions'] = {k: (1 / (1 + np.exp(-np.array(v)))).tolist() for k, v in r['predictions'].items()}
        elif spec.get('predict_output') == 'softmax':
            r['predictions'] = {k: torch.softmax(torch.tensor(v, dtype=dt).reshape(-1, 3), dim=-1).reshape(-1).tolist() for k, v in r['predictions'].items()}
        res[dtname] = r
    out['examples'][name] = res
    print(name, 'final', res['f64']['log'][-1])
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'examples.json'), 'w') as f:
    json.dump(out, f, indent=1)
