# Models no one here wrote, for graph-run's ONNX import (runtime/import/onnx/): PyTorch modules
# exported with PyTorch's own exporter (torch.onnx, TorchScript-based, dynamo=False), run in
# ONNX Runtime on fixed inputs. Writes test/fixtures/onnx/<name>.onnx and <name>.json
# ({opset, inputs, outputs: {name: {shape, data}}}); test/import/onnx-models.test.ts imports each
# model and requires graph-run's outputs within 1e-5 of ONNX Runtime's.
#   mlp          Linear/ReLU/Linear/Tanh (Gemm), batch dimension dynamic, opset 13
#   cnn          Conv/ReLU/BatchNormalization/MaxPool/Flatten/Gemm, batch dynamic, opset 15
#   cnn2         Pad (reflect), strided/grouped/dilated Conv, AveragePool (ceil, padding left out),
#                GlobalAveragePool, opset 18
#   transformer  Embedding (Gather), LayerNormalization, two-head self-attention (MatMul,
#                Reshape, Transpose, Softmax), ReLU feed-forward, residuals; fixed shapes, opset 17
# Also a fine-tune reference for the MLP: full-batch SGD (lr 0.1) on an MSE loss, the loss before
# each step and the parameters after the last (mlp-finetune.json).
# Run: /work/venv-ops/bin/python test/reference/onnx-models.py   (torch 2.13, onnx, onnxruntime)
import json
import os

import numpy as np
import onnxruntime as ort
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'onnx')
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return torch.tanh(self.fc2(torch.relu(self.fc1(x))))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        # After the ReLU, so the exporter cannot fold it into the convolution.
        self.bn = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        h = self.pool(self.bn(torch.relu(self.conv(x))))
        return self.fc(torch.flatten(h, 1))


class CNN2(nn.Module):
    """The attribute forms: strides, dilation, groups, reflection padding, padded ceil-mode
    average pooling that leaves the padding out, global average pooling."""

    def __init__(self):
        super().__init__()
        self.pad = nn.ReflectionPad2d((1, 2, 0, 1))
        self.conv1 = nn.Conv2d(2, 4, 3, stride=(2, 1), padding=1, groups=2)
        self.conv2 = nn.Conv2d(4, 6, 2, dilation=2, bias=False)
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        self.fc = nn.Linear(6, 2)

    def forward(self, x):
        h = torch.sigmoid(self.conv1(self.pad(x)))
        h = self.avg(torch.relu(self.conv2(h)))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(h, 1), 1))


B, T, V, E, H = 2, 6, 10, 8, 2
D = E // H


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, E)
        self.pos = nn.Parameter(torch.randn(T, E) * 0.1)
        self.ln1 = nn.LayerNorm(E)
        self.qkv = nn.Linear(E, 3 * E)
        self.proj = nn.Linear(E, E)
        self.ln2 = nn.LayerNorm(E)
        self.ff1 = nn.Linear(E, 16)
        self.ff2 = nn.Linear(16, E)

    def forward(self, ids):
        x = self.emb(ids) + self.pos
        h = self.ln1(x)
        q, k, v = self.qkv(h).split(E, dim=-1)
        # Fixed sizes (B, T): the reshapes export with constant shapes.
        q = q.reshape(B, T, H, D).transpose(1, 2)
        k = k.reshape(B, T, H, D).transpose(1, 2)
        v = v.reshape(B, T, H, D).transpose(1, 2)
        att = torch.softmax(q @ k.transpose(-2, -1) / (D**0.5), dim=-1)
        a = (att @ v).transpose(1, 2).reshape(B, T, E)
        x = x + self.proj(a)
        return x + self.ff2(torch.relu(self.ff1(self.ln2(x))))


def export(name, model, inputs, opset, dynamic):
    model.eval()
    path = os.path.join(OUT, f'{name}.onnx')
    names = list(inputs)
    torch.onnx.export(
        model,
        tuple(torch.from_numpy(v) for v in inputs.values()),
        path,
        input_names=names,
        output_names=['out'],
        opset_version=opset,
        dynamic_axes={n: {0: 'batch'} for n in names + ['out']} if dynamic else None,
        dynamo=False,
    )
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    outs = sess.run(None, inputs)
    doc = {
        'opset': opset,
        'inputs': {k: {'shape': list(v.shape), 'data': v.ravel().tolist()} for k, v in inputs.items()},
        'outputs': {'out': {'shape': list(outs[0].shape), 'data': outs[0].astype(np.float64).ravel().tolist()}},
    }
    with open(os.path.join(OUT, f'{name}.json'), 'w') as f:
        json.dump(doc, f)
    print(name, os.path.getsize(path), 'bytes', [n.op_type for n in __import__('onnx').load(path).graph.node])


rng = np.random.default_rng(0)
mlp = MLP()
export('mlp', mlp, {'x': rng.normal(size=(5, 4)).astype(np.float32)}, 13, True)

cnn = CNN()
with torch.no_grad():  # running statistics that are not the identity
    cnn.bn.running_mean.copy_(torch.rand(4) * 0.5)
    cnn.bn.running_var.copy_(torch.rand(4) + 0.5)
    cnn.bn.weight.copy_(torch.rand(4) + 0.5)
    cnn.bn.bias.copy_(torch.rand(4) - 0.5)
export('cnn', cnn, {'x': rng.normal(size=(3, 1, 8, 8)).astype(np.float32)}, 15, True)

block = Block()
export('transformer', block, {'ids': rng.integers(0, V, size=(B, T)).astype(np.int64)}, 17, False)

# Fine-tuning the MLP: full-batch SGD on MSE, in float32 as graph-run trains.
# Two decimals: the same numbers written in finetune.yaml read back as the same float32 values.
x = torch.from_numpy(np.round(rng.normal(size=(8, 4)), 2).astype(np.float32))
y = torch.from_numpy(np.round(rng.uniform(-0.5, 0.5, size=(8, 3)), 2).astype(np.float32))
opt = torch.optim.SGD(mlp.parameters(), lr=0.1)
losses = []
for _ in range(5):
    opt.zero_grad()
    loss = torch.mean((mlp(x) - y) ** 2)
    losses.append(loss.item())
    loss.backward()
    opt.step()
with torch.no_grad():
    final = torch.mean((mlp(x) - y) ** 2).item()
doc = {
    'x': x.numpy().tolist(),
    'y': y.numpy().tolist(),
    'lr': 0.1,
    'steps': 5,
    'losses': losses,
    'final_loss': final,
    'params': {k: v.detach().numpy().astype(np.float64).ravel().tolist() for k, v in mlp.named_parameters()},
}
with open(os.path.join(OUT, 'mlp-finetune.json'), 'w') as f:
    json.dump(doc, f)
print('finetune losses', losses, final)

# Last, so the models and data above keep their seeds' values.
export('cnn2', CNN2(), {'x': rng.normal(size=(2, 2, 11, 9)).astype(np.float32)}, 18, True)

# The graph that fine-tunes the imported MLP (docs/onnx.md shows it): the imported graph as a
# subgraph, an MSE loss, SGD, and the data above.
rows = lambda a: '[' + ', '.join('[' + ', '.join(f'{v:.2f}' for v in r) + ']' for r in a) + ']'
with open(os.path.join(OUT, 'finetune.yaml'), 'w') as f:
    f.write(f'''# Fine-tune the imported MLP: `graph-run import mlp.onnx -o mlp.yaml` writes mlp.yaml and
# mlp.safetensors beside this file; this graph uses it as a subgraph and adds a loss,
# an optimizer and data. (Written by test/reference/onnx-models.py.)
graph-run: 1
name: mlp_finetune
inputs:
  x: {{shape: [batch, 4]}}
  y: {{shape: [batch, 3]}}
nodes:
  - {{name: net, graph: mlp.yaml, inputs: {{x: x}}}}
outputs: [net]
loss:
  graph: std:losses/mse.yaml
  inputs: {{pred: net, target: y}}
optimizer:
  graph: std:optimizers/sgd.yaml
  with: {{lr: 0.1}}
training:
  data:
    x: {rows(x.numpy())}
    y: {rows(y.numpy())}
  epochs: 5
  batch_size: 8
  log_every: 1
''')
