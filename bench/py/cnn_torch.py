# PyTorch's CPU time for one Adam step of graphs/mnist_cnn.yaml (conv 3x3 1->8 'same' + ReLU,
# 2x2 max pool, conv 3x3 8->16 'same' + ReLU, 2x2 max pool, dense 784->10, cross-entropy, Adam
# lr 1e-3), batch 64, on 2 threads, f32. bench/refs.ts starts this script once and asks it for
# one step per line on stdin ("step"), answering "ok" after each, so its steps are timed
# interleaved with graph-run's; run alone (python3 bench/cnn_torch.py --alone [--threads N]) it
# prints its own median step time in ms.
import sys
import torch
from step_server import serve
import torch.nn.functional as F

threads = int(sys.argv[sys.argv.index('--threads') + 1]) if '--threads' in sys.argv else 2
torch.set_num_threads(threads)
torch.manual_seed(0)
B = 64
x = torch.rand(B, 1, 28, 28)
y = torch.randint(0, 10, (B,))
params = [torch.randn(8, 1, 3, 3) * 0.3, torch.zeros(8), torch.randn(16, 8, 3, 3) * 0.1, torch.zeros(16),
          torch.randn(10, 784) * 0.03, torch.zeros(10)]
for p in params:
    p.requires_grad_(True)
k1, c1, k2, c2, w, b = params
opt = torch.optim.Adam(params, lr=1e-3)


def step():
    opt.zero_grad(set_to_none=True)
    h = F.max_pool2d(F.relu(F.conv2d(x, k1, c1, padding='same')), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, k2, c2, padding='same')), 2).reshape(B, 784)
    loss = F.cross_entropy(F.linear(h, w, b), y)
    loss.backward()
    opt.step()
    return loss.item()


serve(step, torch)
