"""PyTorch CUDA reference for `npm run bench:gpu` (bench/gpu.ts runs it once, in its own process,
before the WebGPU rows, so they do not share the GPU).

Prints one JSON line: {"torch": version, "cuda": bool, "device": name, "rows": {...}}, each row in
milliseconds (and TFLOP/s for products), timed with CUDA events over back-to-back runs after a
warm-up. fp32 throughout with TF32 off (cuBLAS fp32, as graph-run computes):
  matmul_N            C = A·B, N×N·N×N
  thin_MxKxN[_ta]     the MLP's output-layer product (1024×4096·4096×10) and its weight gradient
                      (h2ᵀ·dY: A read transposed)
  mlp_W_bB            one SGD step (zero_grad, forward, MSE, backward, update) of the 784-W-W-10
                      ReLU MLP at batch B, the graph bench/gpu.ts trains
Without CUDA it prints {"cuda": false, ...} and no rows, unless --device cpu (a smoke test of this
script on small sizes: --device cpu --matmul 256 --mlp 256:64 --thin 64x256x10).
"""
import argparse
import json
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--matmul", default="1024,4096")
    p.add_argument("--mlp", default="4096:1024")
    p.add_argument("--thin", default="1024x4096x10")
    p.add_argument("--device", default="cuda")
    p.add_argument("--seconds", type=float, default=1.0)
    a = p.parse_args()
    try:
        import torch
    except ImportError as e:
        print(json.dumps({"torch": None, "cuda": False, "reason": str(e), "rows": {}}))
        return
    cuda = torch.cuda.is_available()
    out = {"torch": torch.__version__, "cuda": cuda, "rows": {}}
    if a.device == "cuda" and not cuda:
        out["reason"] = "torch.cuda.is_available() is false"
        print(json.dumps(out))
        return
    dev = torch.device(a.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    out["device"] = torch.cuda.get_device_name(0) if a.device == "cuda" else "cpu"
    torch.manual_seed(0)

    def timed(fn):
        """Milliseconds per call: warm-up, then back-to-back calls for about a.seconds."""
        for _ in range(3):
            fn()
        sync()
        runs, t0 = 0, time.perf_counter()
        if a.device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
        while runs < 5 or time.perf_counter() - t0 < a.seconds:
            fn()
            runs += 1
            if runs % 20 == 0:
                sync()
        if a.device == "cuda":
            end.record()
            sync()
            return start.elapsed_time(end) / runs, runs
        return (time.perf_counter() - t0) * 1000 / runs, runs

    def sync():
        if a.device == "cuda":
            torch.cuda.synchronize()

    for n in [int(x) for x in a.matmul.split(",") if x]:
        A = torch.rand(n, n, device=dev) * 2 - 1
        B = torch.rand(n, n, device=dev) * 2 - 1
        C = torch.empty(n, n, device=dev)
        ms, runs = timed(lambda: torch.mm(A, B, out=C))
        out["rows"][f"matmul_{n}"] = {"ms": ms, "tflops": 2 * n**3 / (ms * 1e9), "runs": runs}

    for spec in [x for x in a.thin.split(",") if x]:
        m, k, n = (int(v) for v in spec.split("x"))
        A = torch.rand(m, k, device=dev)
        At = torch.rand(k, m, device=dev)
        B = torch.rand(k, n, device=dev)
        for name, fn in ((f"thin_{spec}", lambda: A @ B), (f"thin_{spec}_ta", lambda: At.t() @ B)):
            ms, runs = timed(fn)
            out["rows"][name] = {"ms": ms, "tflops": 2 * m * k * n / (ms * 1e9), "runs": runs}

    for spec in [x for x in a.mlp.split(",") if x]:
        width, batch = (int(v) for v in spec.split(":"))
        model = torch.nn.Sequential(
            torch.nn.Linear(784, width),
            torch.nn.ReLU(),
            torch.nn.Linear(width, width),
            torch.nn.ReLU(),
            torch.nn.Linear(width, 10),
        ).to(dev)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        x = torch.rand(batch, 784, device=dev)
        y = torch.nn.functional.one_hot(torch.randint(0, 10, (batch,), device=dev), 10).float()
        loss_fn = torch.nn.MSELoss()

        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()

        ms, runs = timed(step)
        flops = 2 * batch * (784 * width + width * width + width * 10) * 3 - 2 * batch * 784 * width
        out["rows"][f"mlp_{width}_b{batch}"] = {"ms": ms, "tflops": flops / (ms * 1e9), "runs": runs}
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
