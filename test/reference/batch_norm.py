# PyTorch reference for batch normalisation with running statistics (graphs/lib/layers/
# batch_norm.yaml and batch_norm1d.yaml): a small conv net, conv -> BatchNorm2d -> ReLU -> mean over
# H, W -> linear -> BatchNorm1d (momentum 0.2) -> ReLU -> linear, trained with SGD (lr 0.1) in
# float64 on minibatches of 4 in data order for 2 epochs. Records the initial parameters, the
# data, each step's training-mode loss, the eval-mode loss over the whole data set before training
# and after each epoch, the gradients of the first step (through the batch statistics), the parameters and running statistics after training, and the eval-mode
# logits. Writes batch_norm.json beside this file; test/train/batch-norm.test.ts compares graph-run
# with it. Run: /work/venv-ops/bin/python test/reference/batch_norm.py
import json, os
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(12)
N, C_IN, H, W, C1, HID, K = 12, 2, 5, 5, 3, 4, 3
BATCH, EPOCHS, LR = 4, 2, 0.1


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(C_IN, C1, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(C1)
        self.fc1 = nn.Linear(C1, HID)
        self.bn2 = nn.BatchNorm1d(HID, momentum=0.2)
        self.fc2 = nn.Linear(HID, K)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv(x)))
        h = h.mean(dim=(2, 3))
        h = F.relu(self.bn2(self.fc1(h)))
        return self.fc2(h)


net = Net()
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.tensor(rng.uniform(-0.8, 0.8, size=tuple(p.shape))))
    # Non-trivial affine parameters of the norms.
    net.bn1.weight.copy_(torch.tensor(rng.uniform(0.5, 1.5, C1)))
    net.bn2.weight.copy_(torch.tensor(rng.uniform(0.5, 1.5, HID)))

x = rng.normal(size=(N, C_IN, H, W)) * 1.5 + 0.3
label = rng.randint(0, K, size=N)
xt, lt = torch.tensor(x), torch.tensor(label, dtype=torch.long)


def flat(a):
    return np.asarray(a.detach()).reshape(-1).tolist()


def params():
    return {
        'k1': flat(net.conv.weight), 'c1': flat(net.conv.bias),
        'bn1/weight': flat(net.bn1.weight), 'bn1/bias': flat(net.bn1.bias),
        'w1': flat(net.fc1.weight), 'b1': flat(net.fc1.bias),
        'bn2/weight': flat(net.bn2.weight), 'bn2/bias': flat(net.bn2.bias),
        'w2': flat(net.fc2.weight), 'b2': flat(net.fc2.bias),
    }


def named_params():
    return {
        'k1': net.conv.weight, 'c1': net.conv.bias,
        'bn1/weight': net.bn1.weight, 'bn1/bias': net.bn1.bias,
        'w1': net.fc1.weight, 'b1': net.fc1.bias,
        'bn2/weight': net.bn2.weight, 'bn2/bias': net.bn2.bias,
        'w2': net.fc2.weight, 'b2': net.fc2.bias,
    }


def state():
    return {
        'bn1/running_mean': flat(net.bn1.running_mean), 'bn1/running_var': flat(net.bn1.running_var),
        'bn2/running_mean': flat(net.bn2.running_mean), 'bn2/running_var': flat(net.bn2.running_var),
    }


def eval_loss():
    net.eval()
    with torch.no_grad():
        v = F.cross_entropy(net(xt), lt).item()
    net.train()
    return v


initial = params()
opt = torch.optim.SGD(net.parameters(), lr=LR)
logged = [eval_loss()]
step_losses = []
net.train()
for epoch in range(EPOCHS):
    for s in range(0, N, BATCH):
        opt.zero_grad()
        loss = F.cross_entropy(net(xt[s:s + BATCH]), lt[s:s + BATCH])
        loss.backward()
        if not step_losses:
            first_grads = {k: flat(p.grad) for k, p in named_params().items()}
        opt.step()
        step_losses.append(loss.item())
    logged.append(eval_loss())

net.eval()
with torch.no_grad():
    logits = net(xt)

out = {
    'shapes': {'N': N, 'C_IN': C_IN, 'H': H, 'W': W, 'C1': C1, 'HID': HID, 'K': K},
    'batch': BATCH, 'epochs': EPOCHS, 'lr': LR,
    'x': flat(xt), 'label': label.tolist(),
    'initial': initial,
    'step_losses': step_losses,
    'first_grads': first_grads,
    'logged_losses': logged,
    'params': params(),
    'state': state(),
    'eval_logits': flat(logits),
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'batch_norm.json'), 'w') as f:
    json.dump(out, f)
print('wrote batch_norm.json:', len(step_losses), 'steps, final eval loss', logged[-1])
