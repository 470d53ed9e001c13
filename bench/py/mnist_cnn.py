"""The MNIST CNN of graphs/mnist_cnn.yaml in PyTorch, for `npm run bench:mnist -- --graph
graphs/mnist_cnn.yaml`.

conv 3x3 1->8 ('same') + ReLU, 2x2 max pool, conv 3x3 8->16 ('same') + ReLU, 2x2 max pool,
dense 784->10; softmax cross-entropy, Adam (lr 3e-3), batch 64, 4 epochs, a new random order
every epoch.
The initial values follow the same distributions as the graph: the kernels kaiming_uniform
with ReLU's gain, the biases and the dense weight nn.Conv2d's and nn.Linear's defaults
(U(+-1/sqrt(fan_in)), kaiming_uniform with a = sqrt(5)). Two threads (the benchmark
machine's cores; --threads changes it). Reads the IDX files written by `npm run data:mnist`. Like
`graph-run graphs/mnist_cnn.yaml`, it evaluates the loss and accuracy on the training and the
held-out digits before training and after every epoch.

Prints one JSON line: wall time of the whole script (from interpreter start), the training
time, the final training loss and the held-out accuracy.
  python bench/py/mnist_cnn.py [DATA_DIR] [--epochs N] [--seed S] [--lr LR]
"""
import argparse
import json
import struct
import time

T0 = time.time()
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

def idx(path):
    with open(path, "rb") as f:
        b = f.read()
    magic, = struct.unpack(">I", b[:4])
    rank = magic & 0xFF
    dims = struct.unpack(">" + "I" * rank, b[4:4 + 4 * rank])
    return torch.frombuffer(bytearray(b[4 + 4 * rank:]), dtype=torch.uint8).reshape(dims)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 8, 3, padding="same")
        self.conv2 = torch.nn.Conv2d(8, 16, 3, padding="same")
        self.fc = torch.nn.Linear(784, 10)
        for c in (self.conv1, self.conv2):
            torch.nn.init.kaiming_uniform_(c.weight, nonlinearity="relu")

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        return self.fc(h.reshape(h.shape[0], 784))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir", nargs="?", default="graphs/data/mnist")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    d = a.data_dir
    x = idx(f"{d}/train-images-idx3-ubyte").reshape(-1, 1, 28, 28).float() / 255
    y = idx(f"{d}/train-labels-idx1-ubyte").long()
    xt = idx(f"{d}/test-images-idx3-ubyte").reshape(-1, 1, 28, 28).float() / 255
    yt = idx(f"{d}/test-labels-idx1-ubyte").long()
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    lossf = torch.nn.CrossEntropyLoss()

    def evaluate():
        with torch.no_grad():
            out = model(x)
            outt = model(xt)
            return (lossf(out, y).item(), (out.argmax(1) == y).float().mean().item(),
                    lossf(outt, yt).item(), (outt.argmax(1) == yt).float().mean().item())

    log = [evaluate()]
    t1 = time.time()
    n = x.shape[0]
    for _ in range(a.epochs):
        perm = torch.randperm(n)
        for s in range(0, n, a.batch):
            idxs = perm[s:s + a.batch]
            opt.zero_grad()
            loss = lossf(model(x[idxs]), y[idxs])
            loss.backward()
            opt.step()
        log.append(evaluate())
    train_s = time.time() - t1
    loss, _, _, acc = log[-1]
    print(json.dumps({"wall_s": time.time() - T0, "train_s": train_s, "loss": loss,
                      "test_accuracy": acc, "epochs": a.epochs, "seed": a.seed,
                      "val_accuracy_per_epoch": [r[3] for r in log[1:]], "torch": torch.__version__}))


if __name__ == "__main__":
    main()
