# Reference for the losses the CLI logs besides the log_every grid (docs/training.md): the loss
# before training and after the last epoch, for the tutorial's network (graphs/gender.yaml: a
# 2-2-1 sigmoid network, every weight and bias 0.1, MSE, SGD lr 0.1, batch 1 in data order),
# trained in PyTorch for 1000 and for 25 epochs, in float64 and float32. Writes gender_ends.json
# (test/gender.test.ts).
# Run: /work/venv-ops/bin/python test/reference/gender_ends.py
import json, os
import torch

x = [[-2, -1], [25, 6], [17, 4], [-15, -6]]
y = [1, 0, 0, 1]
out = {}
for dtype, name in [(torch.float64, 'f64'), (torch.float32, 'f32')]:
    X = torch.tensor(x, dtype=dtype)
    Y = torch.tensor(y, dtype=dtype)
    res = {}
    for epochs in [1000, 25]:
        net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sigmoid(), torch.nn.Linear(2, 1), torch.nn.Sigmoid()).to(dtype)
        for p in net.parameters():
            torch.nn.init.constant_(p, 0.1)
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        whole = lambda: torch.nn.functional.mse_loss(net(X).reshape(-1), Y).item()
        initial = whole()
        for epoch in range(epochs):
            for i in range(len(x)):
                opt.zero_grad()
                loss = torch.nn.functional.mse_loss(net(X[i:i + 1]).reshape(-1), Y[i:i + 1])
                loss.backward()
                opt.step()
        res[str(epochs)] = {'initial': initial, 'last_epoch': epochs - 1, 'last': whole()}
    out[name] = res
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'gender_ends.json'), 'w') as f:
    json.dump(out, f, indent=1)
print(json.dumps(out))
