// train.py of a PyTorch export (pytorch.ts): graph-run's training loop in PyTorch, in one process
// or under torchrun with DistributedDataParallel (gloo on CPUs, NCCL on GPUs).

export const TRAIN_PY = `"""Train the exported graph as graph-run does: one process, or several under torchrun.

    python train.py [--epochs N] [--dtype f32|f64] [--save CKPT] [--json-out LOG.json]
    torchrun --nproc_per_node=2 train.py ...

Each step takes graph-run's global batch (rows order[k*B:(k+1)*B] of the epoch's seeded order)
and, under torchrun, process r of W computes rows r, r+W, ... of it; the loss is scaled so that
DistributedDataParallel's average of the gradients is the gradient of the global batch's loss.
W processes therefore follow the single-process run up to the order of floating-point sums.
Processes use gloo on CPUs and NCCL on GPUs. The checkpoint (--save, default checkpoint.safetensors
beside this file) has graph-run's layout: \`graph-run net.yaml --load CKPT\` predicts with it.
"""

import argparse
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

import data as grdata  # noqa: E402
import model as model_module  # noqa: E402
import support as gr  # noqa: E402


def tensor_json(t):
    t = t.detach().cpu()
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def feed_tensors(cfg, feed, dtype, device):
    out = {}
    for name, value in feed.items():
        spec = cfg["inputs"][name]
        a = np.asarray(value, dtype=np.float64)
        t = torch.from_numpy(a)
        out[name] = (t.long() if spec["dtype"] == "i32" else t.to(dtype)).to(device)
    return out


def main():
    with open(os.path.join(HERE, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    ap = argparse.ArgumentParser(description="Train graph %r in PyTorch as graph-run does." % cfg["graph"])
    ap.add_argument("--epochs", type=int, default=cfg.get("epochs", 0), help="epochs (default: the graph's)")
    ap.add_argument("--dtype", choices=["f32", "f64"], default=cfg["dtype"], help="float type (default: the export's)")
    ap.add_argument("--weights", default=os.path.join(HERE, "weights.safetensors"), help="initial weights")
    ap.add_argument("--save", default=os.path.join(HERE, "checkpoint.safetensors"), help="checkpoint to write")
    ap.add_argument("--json-out", default=None, help="write losses, parameters and predictions as JSON to this file")
    ap.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: cuda when available")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()

    dtype = torch.float64 if args.dtype == "f64" else torch.float32
    model_module.DTYPE = dtype
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = (args.device or ("cuda" if torch.cuda.is_available() else "cpu")) == "cuda"
    device = torch.device("cuda:%d" % local_rank if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    if world > 1:
        dist.init_process_group("nccl" if cuda else "gloo")

    net = model_module.Net(dtype)
    names = cfg["names"]
    weights, _ = gr.load_safetensors(args.weights)
    with torch.no_grad():
        for name in cfg["params"]:
            getattr(net, names[name]).copy_(torch.from_numpy(weights[name]).to(dtype))
    net.to(device)
    say = (lambda s: print(s, flush=True)) if rank == 0 and not args.quiet else (lambda s: None)
    result = {}

    if "train" not in cfg:
        # A graph without training: its feed's outputs and the gradients it asks for.
        feed = feed_tensors(cfg, cfg.get("feed", {}), dtype, device)
        grads = cfg.get("gradients")
        wrt = []
        if grads:
            for w in grads["wrt"]:
                t = getattr(net, names[w["ref"]]) if w["ref"] in names and w["ref"] in cfg["params"] else feed[w["ref"]]
                t.requires_grad_(True)
                wrt.append((w["name"], t))
        v = net(feed)
        result["outputs"] = {k: tensor_json(v[r]) for k, r in cfg["outputs"].items()}
        if grads:
            got = torch.autograd.grad(v[grads["of"]].sum(), [t for _, t in wrt])
            result["gradients"] = {n: tensor_json(g) for (n, _), g in zip(wrt, got)}
        result["params"] = {p: tensor_json(getattr(net, names[p])) for p in cfg["params"]}
        say(json.dumps(result))
        finish(args, cfg, result, rank, world)
        return

    import training

    inputs = cfg["inputs"]
    arrays = grdata.read_source(HERE, cfg["train"], inputs)
    val_arrays = None
    v = cfg.get("validation")
    if v and "split" in v:
        n_all = len(next(iter(arrays.values())))
        cut = math.floor(n_all * (1 - v["split"]))
        val_arrays = {k: a[cut:] for k, a in arrays.items()}
        arrays = {k: a[:cut] for k, a in arrays.items()}
    elif v:
        val_arrays = grdata.read_source(HERE, v, inputs)
    train_set = grdata.GraphDataset(arrays, dtype)
    val_set = grdata.GraphDataset(val_arrays, dtype) if val_arrays else None

    B, n = cfg["batch_size"], len(train_set)
    steps = (n + B - 1) // B
    sampler = grdata.GlobalBatchSampler(n, B, cfg["shuffle"], cfg["seed"], world, rank)
    loader = torch.utils.data.DataLoader(train_set, batch_sampler=sampler, collate_fn=lambda b: b)
    ddp = torch.nn.parallel.DistributedDataParallel(net) if world > 1 else net
    optimizer = training.make_optimizer(net)
    scheduler = training.make_scheduler(optimizer)
    metrics = cfg.get("metrics", [])

    def evaluate(ds):
        """Loss (the batch losses weighted by their rows) and metrics, dropout off, in data order."""
        eb, rows = cfg["eval_batch_size"], len(ds)
        total, sums = 0.0, [[0, 0] for _ in metrics]
        with torch.no_grad():
            for start in range(0, rows, eb):
                b = {k: t.to(device) for k, t in ds.take(start, min(rows, start + eb)).items()}
                c = min(eb, rows - start)
                out = net(b, None)
                s = training.loss_sum(net, out, c)
                total += float(s / c if training.LOSS_MEAN else s) * c
                for i, m in enumerate(metrics):
                    if m.get("pred") is not None:
                        hit, count = gr._decisions(m, out[m["pred"]], out[m["target"]])
                        sums[i][0] += hit
                        sums[i][1] += count
        loss = total / rows if rows else float("nan")
        return loss, gr.metric_values(metrics, sums, loss)

    losses = []

    def log(epoch):
        loss, ms = evaluate(train_set)
        r = {"epoch": epoch, "loss": loss, **ms}
        if val_set is not None:
            vl, vms = evaluate(val_set)
            r["val_loss"] = vl
            r.update({"val_" + k: x for k, x in vms.items()})
        losses.append(r)
        say(json.dumps(r))

    epochs = args.epochs
    if epochs > 0:
        log(-1)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for k, local in enumerate(loader):
            count = min(B, n - k * B)
            ctx = gr.StepContext(step=epoch * steps + k + 1, epoch=epoch,
                                 rows=list(range(rank, count, world)) if world > 1 else None)
            batch = {key: t.to(device) for key, t in local.items()}
            out = ddp(batch, ctx)
            rows = len(next(iter(batch.values())))
            loss = training.loss_sum(net, out, rows) * (world / count if training.LOSS_MEAN else world)
            optimizer.zero_grad()
            loss.backward()
            training.clip_gradients(net)
            if hasattr(optimizer, "clock"):
                optimizer.clock.step, optimizer.clock.epoch = ctx.step, epoch
            optimizer.step()
            if scheduler is not None and training.SCHEDULE_EVERY == "step":
                scheduler.step()
        if scheduler is not None and training.SCHEDULE_EVERY == "epoch":
            scheduler.step()
        if epoch % cfg["log_every"] == 0 or epoch == epochs - 1:
            log(epoch)
    result["losses"] = losses
    result["epochs"] = epochs
    finish(args, cfg, result, rank, world, net=net, dtype=dtype, device=device)


def finish(args, cfg, result, rank, world, net=None, dtype=None, device=None):
    """Rank 0 writes the checkpoint (graph-run's layout), predictions and the JSON log."""
    if rank == 0 and net is not None:
        names = cfg["names"]
        tensors = {p: getattr(net, names[p]).detach().cpu().numpy() for p in cfg["params"]}
        gr.save_safetensors(args.save, tensors, {
            "format": "graph-run checkpoint 1", "graph": cfg["graph"], "dtype": args.dtype,
            "epoch": str(result.get("epochs", 0)), "losses": json.dumps(result.get("losses", [])),
        })
        preds = {}
        with torch.no_grad():
            for set_name, feed in cfg.get("predict", {}).items():
                f = {}
                for k, value in feed.items():
                    a = np.asarray(value, dtype=np.float64)
                    if a.ndim == len(cfg["inputs"][k]["row"]):
                        a = a[None]
                    t = torch.from_numpy(a)
                    f[k] = (t.long() if cfg["inputs"][k]["dtype"] == "i32" else t.to(dtype)).to(device)
                out = net(f, None)
                preds[set_name] = {o: tensor_json(out[r]) for o, r in cfg["outputs"].items()}
        result["predictions"] = preds
        result["params"] = {p: tensor_json(t) for p, t in ((p, getattr(net, names[p])) for p in cfg["params"])}
    if rank == 0 and args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump(result, f)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
`;
