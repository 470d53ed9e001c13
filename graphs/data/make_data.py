# Makes the example data sets in this folder (NumPy only, fixed seeds, so they never change):
#   blobs.csv   3 Gaussian blobs in 2-D, 150 rows: x1, x2, label (0, 1, 2)
#   spiral.csv  3 interleaved spiral arms in 2-D, 240 rows in random order: x1, x2, label
#   linreg.csv, linreg_val.csv   y = 3 x1 - 2 x2 + 0.5 x3 + 1 + noise: 100 and 30 rows
#   mlp_init/*.json   initial weights of graphs/mlp_dropout.yaml (PyTorch's nn.Linear rule:
#                     uniform in +-1/sqrt(fan_in)), as nested lists
# Run: python3 graphs/data/make_data.py
import json, os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))


def write_csv(name, header, rows, fmt):
    with open(os.path.join(here, name), 'w') as f:
        f.write(','.join(header) + '\n')
        for r in rows:
            f.write(','.join(fmt(v) for v in r) + '\n')


num = lambda v: f'{v:.6f}'.rstrip('0').rstrip('.') if isinstance(v, float) else str(v)

rng = np.random.RandomState(2024)
centers = np.array([[-2.0, 0.0], [2.0, 1.0], [0.0, -2.5]])
rows = []
for i in range(150):
    c = i % 3
    p = centers[c] + rng.normal(0, 0.9, size=2)
    rows.append([float(p[0]), float(p[1]), c])
write_csv('blobs.csv', ['x1', 'x2', 'label'], rows, num)

rng = np.random.RandomState(99)
rows = []
for i in range(240):
    c = i % 3
    t = (i // 3) / 80 * 1.0
    r = 0.2 + 2.0 * t
    a = t * 4.0 + c * 2 * np.pi / 3 + rng.normal(0, 0.15)
    rows.append([float(r * np.cos(a)), float(r * np.sin(a)), c])
# Rows in random order, so a validation split (the last rows) spans the whole spiral.
rows = [rows[k] for k in rng.permutation(len(rows))]
write_csv('spiral.csv', ['x1', 'x2', 'label'], rows, num)

rng = np.random.RandomState(5)
for name, n in [('linreg.csv', 100), ('linreg_val.csv', 30)]:
    x = rng.uniform(-2, 2, size=(n, 3))
    y = x @ np.array([3.0, -2.0, 0.5]) + 1.0 + rng.normal(0, 0.3, size=n)
    write_csv(name, ['size', 'age', 'rooms', 'price'], [[float(a), float(b), float(c), float(d)] for (a, b, c), d in zip(x, y)], num)

rng = np.random.RandomState(31)
os.makedirs(os.path.join(here, 'mlp_init'), exist_ok=True)
for name, (out, inp) in [('1', (32, 2)), ('2', (32, 32)), ('3', (32, 32)), ('4', (3, 32))]:
    bound = 1 / np.sqrt(inp)
    w = rng.uniform(-bound, bound, size=(out, inp)).round(6)
    b = rng.uniform(-bound, bound, size=(out,)).round(6)
    for key, v in [(f'w{name}', w), (f'b{name}', b)]:
        with open(os.path.join(here, 'mlp_init', f'{key}.json'), 'w') as f:
            json.dump(v.tolist(), f)
print('ok')
