"""The MNIST MLP of graphs/mnist_mlp.yaml in PyTorch, for `npm run bench:mnist`.

784-128-10 with ReLU, softmax cross-entropy, Adam (lr 1e-3), batch 64, 5 epochs, a new random
order every epoch; PyTorch's default Linear initialisation (which graph-run's graph spells out
as kaiming_uniform with a = sqrt(5) and uniform biases). One thread, as graph-run's CPU
executor uses for this size. Reads the IDX files written by `npm run data:mnist`. Like
`graph-run graphs/mnist_mlp.yaml`, it evaluates the loss and accuracy on the training and the
held-out digits before training and after every epoch.

Prints one JSON line: wall time of the whole script (from interpreter start, as the
benchmark measures graph-run's whole run), the training time, the final training loss and
the test accuracy.
"""
import json
import struct
import sys
import time

T0 = time.time()
import torch  # noqa: E402

torch.set_num_threads(1)


def idx(path):
    with open(path, "rb") as f:
        b = f.read()
    magic, = struct.unpack(">I", b[:4])
    rank = magic & 0xFF
    dims = struct.unpack(">" + "I" * rank, b[4:4 + 4 * rank])
    return torch.frombuffer(bytearray(b[4 + 4 * rank:]), dtype=torch.uint8).reshape(dims)


def main(data_dir, epochs=5, batch=64, seed=0):
    torch.manual_seed(seed)
    x = idx(f"{data_dir}/train-images-idx3-ubyte").reshape(-1, 784).float() / 255
    y = idx(f"{data_dir}/train-labels-idx1-ubyte").long()
    xt = idx(f"{data_dir}/test-images-idx3-ubyte").reshape(-1, 784).float() / 255
    yt = idx(f"{data_dir}/test-labels-idx1-ubyte").long()
    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
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
    for _ in range(epochs):
        perm = torch.randperm(n)
        for s in range(0, n, batch):
            idxs = perm[s:s + batch]
            opt.zero_grad()
            loss = lossf(model(x[idxs]), y[idxs])
            loss.backward()
            opt.step()
        log.append(evaluate())
    train_s = time.time() - t1
    loss, _, _, acc = log[-1]
    print(json.dumps({"wall_s": time.time() - T0, "train_s": train_s, "loss": loss,
                      "test_accuracy": acc, "torch": torch.__version__}))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "graphs/data/mnist")
