# Reference for graph-run's seeded randomness (docs/init.md), computed independently in Python:
# Threefry-2x32 words, stream uniforms and normals, per-epoch shuffles and dropout masks from the
# documented algorithm (streams.py); and PyTorch's own fan and gain rules (torch.nn.init) for the
# initialisers' bounds and standard deviations. Writes seeded.json (test/train/random.test.ts).
# Run: /usr/bin/python3 test/reference/seeded.py
import json, math, os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from streams import Stream, dropout_mask, normal, shuffled_order, threefry2x32  # noqa: E402

out = {
    'threefry': [[k0, k1, c0, c1, *threefry2x32(k0, k1, c0, c1)] for (k0, k1, c0, c1) in [(0, 0, 0, 0), (7, 12345, 3, 9), (4294967295, 1, 2, 4294967295)]],
    'uniform': {'seed': 42, 'stream': 'init:w', 'values': [Stream(42, 'init:w').uniform(i, 0) for i in range(16)]},
    'normal': {'seed': 3, 'stream': 'init:layer/w', 'values': [normal(Stream(3, 'init:layer/w'), i) for i in range(16)]},
    'shuffle': {'seed': 42, 'n': 10, 'orders': [shuffled_order(42, 10, e) for e in range(3)]},
    'dropout': {'seed': 7, 'node': 'd1', 'p': 0.3, 'step': 5, 'mask': dropout_mask(7, 'd1', 0.3, 5, 20).tolist()},
    'fans': [],
}
for shape, kind, kw in [([4, 3], 'xavier_uniform', {}), ([4, 3], 'xavier_normal', {'gain': 2.0}), ([8, 2, 3, 3], 'xavier_uniform', {}),
                        ([5, 6], 'kaiming_uniform', {}), ([5, 6], 'kaiming_uniform', {'nonlinearity': 'relu'}),
                        ([5, 6], 'kaiming_normal', {'mode': 'fan_out', 'nonlinearity': 'relu'}), ([5, 6], 'kaiming_normal', {'a': 0.2}),
                        ([3, 4], 'kaiming_uniform', {'nonlinearity': 'tanh'})]:
    t = torch.empty(shape)
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(t)
    if kind.startswith('xavier'):
        std = kw.get('gain', 1.0) * math.sqrt(2.0 / (fan_in + fan_out))
    else:
        fan = fan_out if kw.get('mode') == 'fan_out' else fan_in
        std = torch.nn.init.calculate_gain(kw.get('nonlinearity', 'leaky_relu'), kw.get('a', 0)) / math.sqrt(fan)
    uniform = kind.endswith('uniform')
    out['fans'].append({'shape': shape, 'kind': kind, 'spec': kw, 'dist': 'uniform' if uniform else 'normal',
                        'a': -math.sqrt(3) * std if uniform else 0.0, 'b': math.sqrt(3) * std if uniform else std})
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'seeded.json'), 'w') as f:
    json.dump(out, f, indent=1)
print('ok')
