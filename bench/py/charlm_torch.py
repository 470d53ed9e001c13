# PyTorch's CPU time for one Adam step of graphs/charlm.yaml (token and position embeddings, two
# pre-norm transformer blocks of width 64 with 2 heads and a GELU MLP of 256, causal attention,
# a final layer norm, an untied output projection to 83 characters, cross-entropy over every
# position), batch 32, context 64, on 2 threads, f32. The attention is written out as the graph's
# std:layers/attention.yaml computes it (q, k, v projections, masked softmax, output projection).
# bench/charlm.ts starts this script once and asks it for one step per line on stdin ("step"),
# answering "ok" after each, so its steps interleave with graph-run's; run alone
# (python3 bench/py/charlm_torch.py --alone) it prints its own median step time in ms.
import math
import torch
from step_server import serve
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)
B, T, D, H, V, HID = 32, 64, 64, 2, 83, 256
HD = D // H

ids = torch.randint(0, V, (B, T))
nxt = torch.randint(0, V, (B, T))
params = []


def p(*shape, std=0.02, fill=None):
    t = torch.full(shape, float(fill)) if fill is not None else torch.randn(*shape) * std
    t.requires_grad_(True)
    params.append(t)
    return t


tok, pos = p(V, D), p(T, D)
blocks = []
for _ in range(2):
    blocks.append(dict(
        ln1w=p(D, fill=1), ln1b=p(D, fill=0), wq=p(D, D), wk=p(D, D), wv=p(D, D),
        bq=p(D, fill=0), bk=p(D, fill=0), bv=p(D, fill=0), wo=p(D, D), bo=p(D, fill=0),
        ln2w=p(D, fill=1), ln2b=p(D, fill=0), w1=p(D, HID), b1=p(HID, fill=0), w2=p(HID, D), b2=p(D, fill=0)))
lnfw, lnfb, head, headb = p(D, fill=1), p(D, fill=0), p(D, V), p(V, fill=0)
mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
opt = torch.optim.Adam(params, lr=0.003)


def heads(x):
    return x.reshape(B, T, H, HD).transpose(1, 2)


def block(x, b):
    h = F.layer_norm(x, (D,), b['ln1w'], b['ln1b'])
    q, k, v = heads(h @ b['wq'] + b['bq']), heads(h @ b['wk'] + b['bk']), heads(h @ b['wv'] + b['bv'])
    s = (q @ k.transpose(-1, -2)) / math.sqrt(HD)
    a = torch.softmax(s.masked_fill(~mask, float('-inf')), dim=-1) @ v
    x = x + a.transpose(1, 2).reshape(B, T, D) @ b['wo'] + b['bo']
    h = F.layer_norm(x, (D,), b['ln2w'], b['ln2b'])
    return x + F.gelu(h @ b['w1'] + b['b1']) @ b['w2'] + b['b2']


def step():
    opt.zero_grad(set_to_none=True)
    x = F.embedding(ids, tok) + pos
    for b in blocks:
        x = block(x, b)
    logits = F.layer_norm(x, (D,), lnfw, lnfb) @ head + headb
    loss = F.cross_entropy(logits.reshape(B * T, V), nxt.reshape(B * T))
    loss.backward()
    opt.step()
    return loss.item()


serve(step, torch)
