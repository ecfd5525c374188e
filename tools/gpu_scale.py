#!/usr/bin/env python
"""GPU scale check of ixlinx (a prepared script; CI never runs it).

1. The 8B preset's forward in bf16 on one GPU: tokens/s, MFU, peak memory.
2. A few FSDP2 training steps (the `Trainer` with `parallel='fsdp'`, bf16 compute / fp32 reduce, activation checkpointing,
   meta-device init) of the largest preset whose memory plan (`ixlinx.memory.memory_plan`) fits the GPUs.

    python tools/gpu_scale.py                                  # one GPU, a few minutes
    torchrun --standalone --nproc_per_node=8 tools/gpu_scale.py  # FSDP over 8 GPUs
    python tools/gpu_scale.py --device cpu --train-preset tiny --seq-len 64 --steps 2 --forward-preset tiny  # smoke test

Writes `nbs/results/gpu_scale.json` (rank 0) with the machine.
"""
import argparse, math, os, sys, time
from pathlib import Path
import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ixlinx.core import count_params, save_result
from ixlinx.model import IXLinx, IXLinxConfig
from ixlinx.train import Trainer, TrainConfig
from ixlinx.memory import memory_plan

PEAK_BF16 = {'H200': 989e12, 'H100': 989e12, 'H800': 989e12, 'A100': 312e12, 'A800': 312e12, 'L40S': 362e12,
             'L40': 181e12, 'A6000': 155e12, 'A10': 125e12, 'L4': 121e12, '4090': 165e12, '3090': 71e12}
ORDER = ['12b', '8b', '4b', '8b-lite', '1b', 'prototype', 'tiny']  # largest first

def peak_flops(device, override=None) -> float | None:
    "Dense bf16 tensor-core peak of this GPU (FLOP/s), from its name, or `--peak-tflops`."
    if override: return override * 1e12
    if device.type != 'cuda': return None
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_BF16.items() if k in name), None)

def flops_per_token(cfg: IXLinxConfig, n_params: int, seq_len: int, training: bool) -> float:
    "2N (forward) or 6N (training) plus causal attention, 2*T*D per GQA layer forward (x3 for training)."
    attn = 2 * seq_len * cfg.dim * sum('gqa' in cfg.block_mixers(i) for i in range(cfg.n_layers))
    return (6 if training else 2) * n_params + (3 if training else 1) * attn

def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)

def forward_8b(device, seq_len, batch, reps, peak, preset='8b'):
    "Time the 8B preset's forward in bf16 (weights drawn on the GPU: values do not change the timing)."
    cfg = IXLinxConfig.preset(preset)
    with torch.device('meta'): model = IXLinx(cfg)
    model = model.to(torch.bfloat16).to_empty(device=device).eval()
    with torch.no_grad():
        for n, p in model.named_parameters():
            if p.ndim >= 2: p.normal_(0, 0.02)
            else: p.fill_(1.0 if 'norm' in n or n.endswith('.D') else 0.0)
    n = count_params(model)
    ids = torch.randint(0, 256, (batch, seq_len), device=device)
    if device.type == 'cuda': torch.cuda.reset_peak_memory_stats(device)
    with torch.no_grad():
        model(text=ids, logits_for='last')
        sync(device)
        t0 = time.perf_counter()
        for _ in range(reps): model(text=ids, logits_for='last')
        sync(device)
    dt = (time.perf_counter() - t0) / reps
    tps = batch * seq_len / dt
    fl = flops_per_token(cfg, n, seq_len, False)
    r = dict(preset=preset, params=n, dtype='bf16', batch=batch, seq_len=seq_len, seconds_per_forward=dt, tokens_per_s=tps,
             mfu=tps * fl / peak if peak else None)
    if device.type == 'cuda': r['peak_memory_GB'] = torch.cuda.max_memory_allocated(device) / 1e9
    del model
    if device.type == 'cuda': torch.cuda.empty_cache()
    return r

def pick_preset(world, seq_len, batch, gpu_bytes, forced=None):
    "The largest preset whose FSDP memory plan (bf16, checkpointing) is under 85 % of one GPU."
    for name in ([forced] if forced else ORDER):
        p = memory_plan(name, world, 'bf16', seq_len, batch, checkpointing=True, fsdp=True)
        if forced or p['total'] < 0.85 * gpu_bytes: return name, p
    raise SystemExit(f"no preset fits {gpu_bytes / 1e9:.0f} GB per GPU at seq_len={seq_len}")

class StepTimer:
    "Trainer callback: wall time of every optimizer step (synchronised)."
    def __init__(self, device): self.device, self.times = device, []
    def on_fit_start(self, tr): sync(self.device); self.t = time.perf_counter()
    def on_step_end(self, tr):
        sync(self.device)
        now = time.perf_counter()
        self.times.append(now - self.t)
        self.t = now

def train_fsdp(device, world, seq_len, batch, steps, peak, forced=None):
    "A few `Trainer(parallel='fsdp')` steps of the largest preset that fits, built on the meta device."
    gpu_bytes = torch.cuda.get_device_properties(device).total_memory if device.type == 'cuda' else 8e9
    name, plan = pick_preset(world, seq_len, batch, gpu_bytes, forced)
    cfg = IXLinxConfig.preset(name, gradient_checkpointing=True, max_seq_len=max(seq_len, 4096))
    with torch.device('meta'): model = IXLinx(cfg)
    n = count_params(model)
    ids = torch.randint(0, 256, (batch * (steps + 1) * world, seq_len))
    dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(ids), batch_size=batch,
                                     sampler=torch.utils.data.distributed.DistributedSampler(ids, world, dist.get_rank()) if world > 1 else None)
    loss = lambda m, b: torch.nn.functional.cross_entropy(m(text=b[0])['logits'][:, :-1].flatten(0, 1).float(), b[0][:, 1:].flatten())
    timer = StepTimer(device)
    if device.type == 'cuda': torch.cuda.reset_peak_memory_stats(device)
    t0 = time.perf_counter()
    tr = Trainer(model, dl, None, loss, TrainConfig(lr=1e-4, max_steps=steps, parallel='fsdp', mixed_precision='bf16' if device.type == 'cuda' else 'fp32',
                                               progress=False, log_every=1, device=str(device)), callbacks=[timer])
    t_build = time.perf_counter() - t0
    tr.fit()
    dt = sorted(timer.times[1:] or timer.times)[len(timer.times[1:] or timer.times) // 2]  # median, without the first step
    tps = batch * seq_len * world / dt
    fl = flops_per_token(cfg, n, seq_len, True)
    r = dict(preset=name, params=n, world_size=world, batch_per_gpu=batch, seq_len=seq_len, activation_checkpointing=True,
             build_seconds=t_build, step_seconds=timer.times, tokens_per_s=tps, mfu=tps * fl / (peak * world) if peak else None,
             losses=[h.get('loss') for h in tr.history], plan_total_GB=plan['total'] / 1e9)
    if device.type == 'cuda': r['peak_memory_GB'] = torch.cuda.max_memory_allocated(device) / 1e9
    return r

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cuda'); p.add_argument('--seq-len', type=int, default=2048)
    p.add_argument('--batch', type=int, default=1, help='sequences per GPU'); p.add_argument('--steps', type=int, default=5)
    p.add_argument('--reps', type=int, default=5, help='timed 8B forwards'); p.add_argument('--peak-tflops', type=float)
    p.add_argument('--train-preset', help='force the trained preset (default: the largest that fits)')
    p.add_argument('--forward-preset', default='8b', help='the preset timed forward (8b; tiny for a smoke test)')
    p.add_argument('--skip-forward', action='store_true'); p.add_argument('--out', default='gpu_scale')
    a = p.parse_args()
    from ixlinx.distributed import ensure_process_group
    if a.device == 'cuda' and not torch.cuda.is_available(): raise SystemExit("no CUDA device: this script needs a GPU (or --device cpu for a smoke test)")
    if a.device == 'cuda': torch.cuda.set_device(int(os.environ.get('LOCAL_RANK', 0)))
    device = torch.device(a.device, torch.cuda.current_device()) if a.device == 'cuda' else torch.device(a.device)
    rank, world = ensure_process_group(device)
    peak = peak_flops(device, a.peak_tflops)
    res = dict(device=torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu', peak_bf16_flops=peak, world_size=world)
    if not a.skip_forward and rank == 0: res['forward_8b'] = forward_8b(device, a.seq_len, a.batch, a.reps, peak, a.forward_preset)
    if world > 1: dist.barrier()
    res['train_fsdp'] = train_fsdp(device, world, a.seq_len, a.batch, a.steps, peak, a.train_preset)
    if rank == 0:
        print(save_result(a.out, res))
        for k in ('forward_8b', 'train_fsdp'):
            if k in res: print(k, {kk: v for kk, v in res[k].items() if kk not in ('step_seconds', 'losses')})
    dist.destroy_process_group()

if __name__ == '__main__': main()
