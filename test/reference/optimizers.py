# PyTorch reference for graph-run's optimizers, schedules, per-parameter options and gradient
# clipping: a small linear model (pred = x W^T + b, MSE) trained with torch.optim from fixed
# initial values, recording the loss over all data after every epoch and the final parameters,
# in float64 and float32. Writes optimizers.json beside this file (test/train/optimizers.test.ts).
# Run: /usr/bin/python3 test/reference/optimizers.py   (PyTorch 1.13; CI needs only the JSON)
import json, os
import numpy as np
import torch

rng = np.random.RandomState(7)
X = rng.uniform(-1, 1, size=(8, 3)).round(6)
Y = (X @ np.array([[1.5, -2.0, 0.5], [-0.5, 1.0, 2.0]]).T + np.array([0.3, -0.2]) + rng.normal(0, 0.1, size=(8, 2))).round(6)
W0 = rng.uniform(-0.5, 0.5, size=(2, 3)).round(6)
B0 = rng.uniform(-0.5, 0.5, size=(2,)).round(6)
EPOCHS = 25

# Each run: the optimizer section of the graph (graph-run), and how to build the same in torch.
runs = [
    dict(name='sgd', opt={'graph': 'std:optimizers/sgd.yaml', 'with': {'lr': 0.1}},
         torch=lambda p: (torch.optim.SGD(p, lr=0.1), None)),
    dict(name='sgd_momentum', opt={'graph': 'std:optimizers/sgd_momentum.yaml', 'with': {'lr': 0.05, 'momentum': 0.9}},
         torch=lambda p: (torch.optim.SGD(p, lr=0.05, momentum=0.9), None)),
    dict(name='sgd_dampening_wd', opt={'graph': 'std:optimizers/sgd_momentum.yaml', 'with': {'lr': 0.05, 'momentum': 0.8, 'dampening': 0.3, 'weight_decay': 0.01}},
         torch=lambda p: (torch.optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01), None)),
    dict(name='sgd_nesterov', opt={'graph': 'std:optimizers/sgd_momentum.yaml', 'with': {'lr': 0.05, 'momentum': 0.9, 'nesterov': 1, 'weight_decay': 0.001}},
         torch=lambda p: (torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.001), None)),
    dict(name='adam', opt={'graph': 'std:optimizers/adam.yaml', 'with': {'lr': 0.05}},
         torch=lambda p: (torch.optim.Adam(p, lr=0.05), None)),
    dict(name='adam_options', opt={'graph': 'std:optimizers/adam.yaml', 'with': {'lr': 0.02, 'beta1': 0.8, 'beta2': 0.99, 'eps': 1e-6, 'weight_decay': 0.1}},
         torch=lambda p: (torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), None)),
    dict(name='adamw', opt={'graph': 'std:optimizers/adamw.yaml', 'with': {'lr': 0.05, 'weight_decay': 0.1}},
         torch=lambda p: (torch.optim.AdamW(p, lr=0.05, weight_decay=0.1), None)),
    dict(name='rmsprop', opt={'graph': 'std:optimizers/rmsprop.yaml', 'with': {'lr': 0.01}},
         torch=lambda p: (torch.optim.RMSprop(p, lr=0.01), None)),
    dict(name='rmsprop_centered_momentum', opt={'graph': 'std:optimizers/rmsprop.yaml', 'with': {'lr': 0.005, 'alpha': 0.9, 'momentum': 0.5, 'centered': 1, 'weight_decay': 0.01}},
         torch=lambda p: (torch.optim.RMSprop(p, lr=0.005, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01), None)),
    dict(name='adagrad', opt={'graph': 'std:optimizers/adagrad.yaml', 'with': {'lr': 0.1}},
         torch=lambda p: (torch.optim.Adagrad(p, lr=0.1), None)),
    dict(name='adagrad_options', opt={'graph': 'std:optimizers/adagrad.yaml', 'with': {'lr': 0.2, 'lr_decay': 0.05, 'weight_decay': 0.01, 'initial_accumulator_value': 0.1, 'eps': 1e-8}},
         torch=lambda p: (torch.optim.Adagrad(p, lr=0.2, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.1, eps=1e-8), None)),
    # Per-parameter options: no weight decay on the bias (two param groups in torch).
    dict(name='adamw_no_decay_on_bias', opt={'graph': 'std:optimizers/adamw.yaml', 'with': {'lr': 0.05, 'weight_decay': 0.2}, 'params': {'b': {'weight_decay': 0}}},
         torch=lambda p: (torch.optim.AdamW([{'params': [p[0]]}, {'params': [p[1]], 'weight_decay': 0.0}], lr=0.05, weight_decay=0.2), None)),
    # A frozen parameter: the bias keeps its initial value.
    dict(name='sgd_frozen_bias', opt={'graph': 'std:optimizers/sgd_momentum.yaml', 'with': {'lr': 0.05, 'momentum': 0.5}, 'params': {'b': {'trainable': False}}},
         freeze_b=True, torch=lambda p: (torch.optim.SGD([p[0]], lr=0.05, momentum=0.5), None)),
    # Schedules, stepped once per epoch.
    dict(name='step_lr', opt={'graph': 'std:optimizers/sgd_momentum.yaml', 'with': {'lr': 0.1, 'momentum': 0.5}, 'schedule': {'graph': 'std:schedules/step.yaml', 'with': {'step_size': 7, 'gamma': 0.5}}},
         torch=lambda p: (lambda o: (o, torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5)))(torch.optim.SGD(p, lr=0.1, momentum=0.5))),
    dict(name='exponential_lr', opt={'graph': 'std:optimizers/adam.yaml', 'with': {'lr': 0.05}, 'schedule': {'graph': 'std:schedules/exponential.yaml', 'with': {'gamma': 0.9}}},
         torch=lambda p: (lambda o: (o, torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)))(torch.optim.Adam(p, lr=0.05))),
    dict(name='cosine_lr', opt={'graph': 'std:optimizers/sgd.yaml', 'with': {'lr': 0.2}, 'schedule': {'graph': 'std:schedules/cosine.yaml', 'with': {'t_max': 20, 'eta_min': 0.01}}},
         torch=lambda p: (lambda o: (o, torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=20, eta_min=0.01)))(torch.optim.SGD(p, lr=0.2))),
    dict(name='linear_warmup_lr', opt={'graph': 'std:optimizers/adamw.yaml', 'with': {'lr': 0.05}, 'schedule': {'graph': 'std:schedules/linear_warmup.yaml', 'with': {'start_factor': 0.1, 'total_iters': 6}}},
         torch=lambda p: (lambda o: (o, torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=6)))(torch.optim.AdamW(p, lr=0.05))),
    # Minibatches of 3 (8 rows: 3, 3 and a partial 2), the schedule stepped after every batch.
    dict(name='step_lr_per_step_batches', batch=3, opt={'graph': 'std:optimizers/sgd_momentum.yaml', 'with': {'lr': 0.1, 'momentum': 0.5}, 'schedule': {'graph': 'std:schedules/step.yaml', 'with': {'step_size': 10, 'gamma': 0.5}, 'every': 'step'}},
         per_step=True, torch=lambda p: (lambda o: (o, torch.optim.lr_scheduler.StepLR(o, step_size=10, gamma=0.5)))(torch.optim.SGD(p, lr=0.1, momentum=0.5))),
    # Clipping by global norm (active: the initial gradient norm is well above 0.5).
    dict(name='clip_grad_norm', opt={'graph': 'std:optimizers/sgd_momentum.yaml', 'with': {'lr': 0.1, 'momentum': 0.9}, 'clip_grad_norm': 0.5},
         clip=0.5, torch=lambda p: (torch.optim.SGD(p, lr=0.1, momentum=0.9), None)),
    dict(name='clip_grad_norm_adam_batches', batch=3, opt={'graph': 'std:optimizers/adam.yaml', 'with': {'lr': 0.05}, 'clip_grad_norm': 0.3},
         clip=0.3, torch=lambda p: (torch.optim.Adam(p, lr=0.05), None)),
]


def train(run, dtype):
    x = torch.tensor(X, dtype=dtype)
    y = torch.tensor(Y, dtype=dtype)
    w = torch.tensor(W0, dtype=dtype, requires_grad=True)
    b = torch.tensor(B0, dtype=dtype, requires_grad=not run.get('freeze_b', False))
    opt, sched = run['torch']([w, b])
    batch = run.get('batch', 8)
    losses = []
    for epoch in range(EPOCHS):
        for s in range(0, len(X), batch):
            xb, yb = x[s:s + batch], y[s:s + batch]
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(xb @ w.T + b, yb)
            loss.backward()
            if 'clip' in run:
                torch.nn.utils.clip_grad_norm_([w, b], run['clip'])
            opt.step()
            if sched is not None and run.get('per_step'):
                sched.step()
        if sched is not None and not run.get('per_step'):
            sched.step()
        with torch.no_grad():
            losses.append(torch.nn.functional.mse_loss(x @ w.T + b, y).item())
    return {'losses': losses, 'w': w.detach().double().reshape(-1).tolist(), 'b': b.detach().double().reshape(-1).tolist()}


out = {'torch': torch.__version__, 'x': X.tolist(), 'y': Y.tolist(), 'w0': W0.tolist(), 'b0': B0.tolist(), 'epochs': EPOCHS, 'runs': []}
for run in runs:
    out['runs'].append({'name': run['name'], 'optimizer': run['opt'], 'batch': run.get('batch', 8),
                        'f64': train(run, torch.float64), 'f32': train(run, torch.float32)})
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'optimizers.json'), 'w') as f:
    json.dump(out, f, indent=1)
print(len(runs), 'runs')
