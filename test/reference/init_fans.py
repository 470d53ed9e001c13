# Reference for initialisers on tensors with fewer than 2 axes (docs/init.md): PyTorch computes
# no fans for them (torch.nn.init._calculate_fan_in_and_fan_out raises), so graph-run asks for
# the fans the initialiser uses, and a 1-D parameter given a fan gets exactly PyTorch's bound /
# std for a weight with that fan (as a bias takes its layer's fan_in). Writes init_fans.json
# (test/train/init-fans.test.ts).
# Run: /work/venv-ops/bin/python test/reference/init_fans.py
import json, math, os
import torch

out = {'refused_1d': {}, 'cases': []}
for kind in ['xavier_uniform_', 'xavier_normal_', 'kaiming_uniform_', 'kaiming_normal_']:
    try:
        getattr(torch.nn.init, kind)(torch.empty(5))
        out['refused_1d'][kind[:-1]] = False
    except ValueError:
        out['refused_1d'][kind[:-1]] = True
# (1-D shape, kind, spec, the [out, in] weight whose fans the spec names)
for shape, kind, kw, weight in [([3], 'kaiming_uniform', {'fan_in': 4}, [3, 4]),
                                ([3], 'kaiming_uniform', {'fan_in': 4, 'nonlinearity': 'relu'}, [3, 4]),
                                ([6], 'kaiming_normal', {'mode': 'fan_out', 'fan_out': 6, 'a': 0.1}, [6, 2]),
                                ([2], 'xavier_uniform', {'fan_in': 4, 'fan_out': 2}, [2, 4]),
                                ([2], 'xavier_normal', {'fan_in': 4, 'fan_out': 2, 'gain': 0.5}, [2, 4])]:
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(weight))
    if kind.startswith('xavier'):
        std = kw.get('gain', 1.0) * math.sqrt(2.0 / (fan_in + fan_out))
    else:
        fan = torch.nn.init._calculate_correct_fan(torch.empty(weight), kw.get('mode', 'fan_in'))
        std = torch.nn.init.calculate_gain(kw.get('nonlinearity', 'leaky_relu'), kw.get('a', 0)) / math.sqrt(fan)
    uniform = kind.endswith('uniform')
    out['cases'].append({'shape': shape, 'kind': kind, 'spec': kw, 'dist': 'uniform' if uniform else 'normal',
                         'a': -math.sqrt(3) * std if uniform else 0.0, 'b': math.sqrt(3) * std if uniform else std})
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'init_fans.json'), 'w') as f:
    json.dump(out, f, indent=1)
print('ok')
