"""NumPy reference for `npm run bench`: the benchmark's workloads in NumPy (OpenBLAS), timed here.

Run as a child process by bench/numpy.ts. Protocol, one line each way:
  prep KEY     -> "ok" (or "no": a workload NumPy does not run)
  run KEY N    -> milliseconds per run, the mean of N back-to-back runs timed in this process
The workloads mirror bench/workloads.ts: matmul n³ (f32), sigmoid(a*b + c) over n floats, and the
784-256-256-10 ReLU MLP at batch 128 (forward only; and one SGD step of MSE on one-hot targets
with its backward pass written out, as graph-run's reverse graph computes it).
"""
import sys
import time

import numpy as np

rng = np.random.default_rng(42)
f32 = np.float32


def matmul(n):
    a = rng.random((n, n), dtype=f32)
    b = rng.random((n, n), dtype=f32)
    return lambda: a @ b


def elementwise(n):
    a, b, c = (rng.random(n, dtype=f32) for _ in range(3))
    out = np.empty(n, dtype=f32)

    def run():
        np.multiply(a, b, out=out)
        np.add(out, c, out=out)
        np.negative(out, out=out)
        np.exp(out, out=out)
        np.add(out, f32(1), out=out)
        np.reciprocal(out, out=out)
    return run


def mlp_params():
    def u(shape, fan):
        return ((rng.random(shape, dtype=f32) * 2 - 1) / np.sqrt(fan)).astype(f32)
    return [u((784, 256), 784), u(256, 784), u((256, 256), 256), u(256, 256), u((256, 10), 256), u(10, 256)]


def mlp(batch, train):
    w1, b1, w2, b2, w3, b3 = p = mlp_params()
    x = rng.random((batch, 784), dtype=f32)
    y = np.zeros((batch, 10), dtype=f32)
    y[np.arange(batch), rng.integers(0, 10, batch)] = 1
    lr = f32(0.01)

    def forward():
        h1 = np.maximum(x @ w1 + b1, 0)
        h2 = np.maximum(h1 @ w2 + b2, 0)
        return h1, h2, h2 @ w3 + b3

    def step():
        h1, h2, out = forward()
        d = (out - y) * f32(2 / out.size)          # d mean((out - y)^2)
        gw3, gb3 = h2.T @ d, d.sum(0)
        d2 = (d @ w3.T) * (h2 > 0)
        gw2, gb2 = h1.T @ d2, d2.sum(0)
        d1 = (d2 @ w2.T) * (h1 > 0)
        gw1, gb1 = x.T @ d1, d1.sum(0)
        for w, g in zip(p, (gw1, gb1, gw2, gb2, gw3, gb3)):
            w -= lr * g
    return step if train else (lambda: forward())


WORKLOADS = {
    "mlp_step_ms": lambda: mlp(128, True),
    "mlp_infer_ms": lambda: mlp(128, False),
    "matmul_128_gflops": lambda: matmul(128),
    "matmul_512_gflops": lambda: matmul(512),
    "matmul_1024_gflops": lambda: matmul(1024),
    "elementwise_1m_gbs": lambda: elementwise(1 << 20),
    "elementwise_16m_gbs": lambda: elementwise(1 << 24),
}


def main():
    prepared = {}
    print(f"numpy {np.__version__}", flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "prep":
            make = WORKLOADS.get(parts[1])
            if make:
                prepared[parts[1]] = make()
            print("ok" if make else "no", flush=True)
        elif parts[0] == "run":
            run, n = prepared[parts[1]], int(parts[2])
            t0 = time.perf_counter()
            for _ in range(n):
                run()
            print((time.perf_counter() - t0) * 1000 / n, flush=True)


if __name__ == "__main__":
    main()
