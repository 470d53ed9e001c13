# PyTorch reference for graph-run's losses (graphs/lib/losses/): for each loss and reduction, a
# small model trained with plain SGD from fixed initial values; records the loss at the initial
# values, the loss over all data after every epoch and the final parameters, float64 and float32.
# Writes losses.json beside this file (test/train/losses.test.ts compares graph-run with it).
# Run: /usr/bin/python3 test/reference/losses.py   (PyTorch 1.13; CI needs only the JSON)
import json, os
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.RandomState(11)
N = 12
X = rng.uniform(-1, 1, size=(N, 3)).round(6)
Y = (X @ np.array([[1.5, -2.0, 0.5], [-0.5, 1.0, 2.0]]).T + rng.normal(0, 0.3, size=(N, 2))).round(6)
YB = (X @ np.array([1.0, -1.0, 0.5]) + rng.normal(0, 0.5, size=N) > 0).astype(np.float64)
YC = np.argmax(X @ np.array([[2.0, 0, 0], [0, 2.0, 0], [0, 0, 2.0]]) + rng.normal(0, 0.8, size=(N, 3)), axis=1)
soft = np.exp(X @ np.array([[1.0, 0, -1.0], [0.5, 1.0, 0], [0, -1.0, 1.0]]))
YS = (soft / soft.sum(axis=1, keepdims=True)).round(6)
YS[:, 2] = 1 - YS[:, 0] - YS[:, 1]
EPOCHS = 20

INIT = {
    'linear': (rng.uniform(-0.5, 0.5, size=(2, 3)).round(6), rng.uniform(-0.5, 0.5, size=(2,)).round(6)),
    'binary': (rng.uniform(-0.5, 0.5, size=(1, 3)).round(6), rng.uniform(-0.5, 0.5, size=(1,)).round(6)),
    'softmax': (rng.uniform(-0.5, 0.5, size=(3, 3)).round(6), rng.uniform(-0.5, 0.5, size=(3,)).round(6)),
}

runs = []
for red, rname, lr_scale in [(1, 'mean', 1.0), (0, 'sum', 1.0 / N)]:
    runs += [
        dict(name=f'mse_{rname}', model='linear', target='y', graph='std:losses/mse.yaml', with_={} if red else None, lr=0.1 * lr_scale,
             fn=lambda p, t, r=rname: F.mse_loss(p, t, reduction=r)),
        dict(name=f'l1_{rname}', model='linear', target='y', graph='std:losses/l1.yaml', with_={'reduction': red}, lr=0.05 * lr_scale,
             fn=lambda p, t, r=rname: F.l1_loss(p, t, reduction=r)),
        dict(name=f'huber_{rname}', model='linear', target='y', graph='std:losses/huber.yaml', with_={'reduction': red, 'delta': 0.5}, lr=0.1 * lr_scale,
             fn=lambda p, t, r=rname: F.huber_loss(p, t, reduction=r, delta=0.5)),
        dict(name=f'bce_{rname}', model='binary', act='sigmoid', target='yb', graph='std:losses/bce.yaml', with_={'reduction': red}, lr=0.5 * lr_scale,
             fn=lambda p, t, r=rname: F.binary_cross_entropy(p, t, reduction=r)),
        dict(name=f'bce_logits_{rname}', model='binary', target='yb', graph='std:losses/bce_logits.yaml', with_={'reduction': red}, lr=0.5 * lr_scale,
             fn=lambda p, t, r=rname: F.binary_cross_entropy_with_logits(p, t, reduction=r)),
        dict(name=f'cross_entropy_{rname}', model='softmax', target='yc', graph='std:losses/cross_entropy.yaml', with_={'reduction': red}, lr=0.5 * lr_scale,
             fn=lambda p, t, r=rname: F.cross_entropy(p, t, reduction=r)),
        dict(name=f'cross_entropy_probs_{rname}', model='softmax', target='ys', graph='std:losses/cross_entropy_probs.yaml', with_={'reduction': red}, lr=0.5 * lr_scale,
             fn=lambda p, t, r=rname: F.cross_entropy(p, t, reduction=r)),
    ]
# mse has no reduction attribute (its interface is the tutorial's); the sum run is left out.
runs = [r for r in runs if r['with_'] is not None]


def forward(run, x, w, b):
    z = x @ w.T + b
    if run['model'] == 'binary':
        z = z.reshape(-1)
        if run.get('act') == 'sigmoid':
            z = torch.sigmoid(z)
    return z


def train(run, dtype):
    x = torch.tensor(X, dtype=dtype)
    t = {'y': torch.tensor(Y, dtype=dtype), 'yb': torch.tensor(YB, dtype=dtype), 'yc': torch.tensor(YC, dtype=torch.int64),
         'ys': torch.tensor(YS, dtype=dtype)}[run['target']]
    w0, b0 = INIT[run['model']]
    w = torch.tensor(w0, dtype=dtype, requires_grad=True)
    b = torch.tensor(b0, dtype=dtype, requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=run['lr'])
    with torch.no_grad():
        initial = run['fn'](forward(run, x, w, b), t).item()
    losses = []
    for _ in range(EPOCHS):
        opt.zero_grad()
        run['fn'](forward(run, x, w, b), t).backward()
        opt.step()
        with torch.no_grad():
            losses.append(run['fn'](forward(run, x, w, b), t).item())
    return {'initial': initial, 'losses': losses, 'w': w.detach().double().reshape(-1).tolist(), 'b': b.detach().double().reshape(-1).tolist()}


out = {'torch': torch.__version__, 'epochs': EPOCHS, 'x': X.tolist(), 'y': Y.tolist(), 'yb': YB.tolist(), 'yc': YC.tolist(), 'ys': YS.tolist(),
       'init': {k: {'w': v[0].tolist(), 'b': v[1].tolist()} for k, v in INIT.items()}, 'runs': []}
for run in runs:
    out['runs'].append({'name': run['name'], 'model': run['model'], 'act': run.get('act'), 'target': run['target'], 'graph': run['graph'],
                        'with': run['with_'], 'lr': run['lr'], 'f64': train(run, torch.float64), 'f32': train(run, torch.float32)})
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'losses.json'), 'w') as f:
    json.dump(out, f, indent=1)
print(len(runs), 'runs')
