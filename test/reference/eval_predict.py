# PyTorch reference for `graph-run eval` and `graph-run predict` on graphs/blobs.yaml with its
# initial parameters (written in the graph; copied below, and stored in the JSON so the test
# checks they are the graph's): the mean cross-entropy and the accuracy over every row of
# graphs/data/blobs.csv, and the outputs (probs, class) for every row.
# Writes eval_predict.json beside this file (test/cli/eval-predict.test.ts reads it).
# Run: /work/venv-ops/bin/python test/reference/eval_predict.py
import csv, json, os
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
w1 = [[-0.2904, 0.0433], [-0.4363, -0.6111], [0.4059, 0.2211], [0.1945, 0.1069],
      [-0.6519, -0.2011], [0.6303, -0.6222], [0.5148, 0.5336], [-0.6347, 0.2156]]
b1 = [0.0732, 0.1379, -0.0233, -0.3069, -0.2861, 0.087, -0.147, 0.4083]
w2 = [[-0.0576, -0.2518, -0.2468, -0.3145, 0.1542, -0.1469, -0.213, 0.2343],
      [0.0481, -0.2953, 0.0318, -0.2412, 0.125, -0.2698, -0.0389, 0.2743],
      [0.2102, -0.3055, 0.3258, 0.1126, 0.1547, 0.1722, 0.2742, -0.2588]]
b2 = [0.1959, 0.239, 0.2329]

with open(os.path.join(here, '..', '..', 'graphs', 'data', 'blobs.csv')) as f:
    rows = list(csv.DictReader(f))
x = torch.tensor([[float(r['x1']), float(r['x2'])] for r in rows], dtype=torch.float64)
y = torch.tensor([int(r['label']) for r in rows])

logits = torch.relu(x @ torch.tensor(w1, dtype=torch.float64).T + torch.tensor(b1, dtype=torch.float64)) \
    @ torch.tensor(w2, dtype=torch.float64).T + torch.tensor(b2, dtype=torch.float64)
out = dict(
    torch=torch.__version__,
    params=dict(w1=w1, b1=b1, w2=w2, b2=b2),
    rows=len(rows),
    loss=F.cross_entropy(logits, y).item(),
    accuracy=(logits.argmax(-1) == y).double().mean().item(),
    probs=torch.softmax(logits, -1).tolist(),
    klass=logits.argmax(-1).tolist(),
)
with open(os.path.join(here, 'eval_predict.json'), 'w') as f:
    json.dump(out, f)
    f.write('\n')
print(out['rows'], out['loss'], out['accuracy'])
