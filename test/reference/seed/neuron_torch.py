#!/usr/bin/python3
"""PyTorch reference for graphs/neuron.yaml: one linear neuron z = w . x with w = (1, 1),
loss (z - y)^2 at x = (2, 3), y = 10, and d loss / d w from autograd (float64).
Also a second point, so the test checks more than the example the YAML feeds.
Run: /usr/bin/python3 test/reference/seed/neuron_torch.py > test/reference/seed/neuron_torch.json"""
import json

import torch


def case(x, y, w):
    x = torch.tensor(x, dtype=torch.float64)
    y = torch.tensor(y, dtype=torch.float64)
    w = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    z = torch.dot(w, x)
    loss = (z - y) ** 2
    loss.backward()
    return {"x": x.tolist(), "y": y.item(), "w": w.detach().tolist(),
            "z": z.item(), "loss": loss.item(), "grad_w": w.grad.tolist()}


print(json.dumps({
    "about": "PyTorch %s, float64: z = w.x, loss = (z - y)^2, grad_w = d loss / d w" % torch.__version__,
    "cases": [case([2.0, 3.0], 10.0, [1.0, 1.0]), case([-1.5, 0.25], 0.7, [0.3, -2.0])],
}, indent=1))
