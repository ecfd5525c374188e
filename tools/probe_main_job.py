"""Probe of the main job's video front end (issue 6): a video-only IXLinx with linear heads for motion (8), shape (3)
and colour (6) on the generated moving-shapes data; prints held-out and training accuracies as one JSON line.

About 2-4 minutes per 600 steps on one core. The runs behind nbs/results/main_job_probe.json:
  python tools/probe_main_job.py                                   # the old default front end
  python tools/probe_main_job.py --render 64 --n 6400 --stem libflow --patch 4 --tpatch 8   # the new one
Options: --stem none|libflow (IXLinxConfig.video_flow)|flowlin (flow channels as first tried)|L<c1-c2-..> or
<c1-c2-..> (a conv stem); --aug any of coord (with flowlin: the curl moment), flow (with a stem), dihedral, shift;
--rotonly trains and tests on rotating clips only.
"""
import sys, time, json, math, argparse, random
import torch, torch.nn as nn, torch.nn.functional as F
from ixlinx.data import ClipSpec, open_clips
from ixlinx.task import cache_dir, moving_shapes
from ixlinx.model import IXLinx, IXLinxConfig
from ixlinx.shapes import VIDEO_CLASSES, SHAPES, COLOURS, dihedral
from ixlinx.inputs import sincos_3d
torch.set_num_threads(1)
p = argparse.ArgumentParser()
p.add_argument('--size', type=int, default=32); p.add_argument('--n', type=int, default=1600)
p.add_argument('--steps', type=int, default=600); p.add_argument('--bs', type=int, default=32)
p.add_argument('--lr', type=float, default=3e-3); p.add_argument('--dim', type=int, default=64)
p.add_argument('--layers', type=int, default=4); p.add_argument('--patch', type=int, default=8)
p.add_argument('--tpatch', type=int, default=2)
p.add_argument('--stem', default='none'); p.add_argument('--aug', default='none')
p.add_argument('--render', type=int, default=0); p.add_argument('--rotonly', action='store_true'); p.add_argument('--mixers', default='gqa,ssm'); p.add_argument('--seed', type=int, default=0)
a = p.parse_args()
torch.manual_seed(a.seed); random.seed(a.seed)
root = moving_shapes(a.n, a.render or a.size, 8, 0, True)
sets = open_clips(root, ClipSpec(num_frames=8, size=a.size), cache_dir()/'clips', progress=False)


def split_tensors(c):
    "A split as the in-memory dict this probe was written for (frames, labels, captions)."
    return dict(frames=torch.stack([c[i]['video'] for i in range(len(c))]),
                labels=torch.tensor([VIDEO_CLASSES.index(r['label']) for r in c.rows]),
                captions=[r['caption'] for r in c.rows])


d = {s: split_tensors(sets[s]) for s in ('train', 'test')}
if a.rotonly:
    for k in d:
        m = (d[k]['labels'] == 4) | (d[k]['labels'] == 5); idx = m.nonzero()[:, 0].tolist()
        d[k] = dict(frames=d[k]['frames'][m], labels=d[k]['labels'][m], captions=[d[k]['captions'][i] for i in idx])
def lab(dd):
    sh = torch.tensor([SHAPES.index(c.split()[2]) for c in dd['captions']]); co = torch.tensor([list(COLOURS).index(c.split()[1]) for c in dd['captions']])
    return dd['labels'], sh, co
Ltr, Lte = lab(d['train']), lab(d['test'])
cfg = IXLinxConfig.preset('tiny', num_classes=8, mixers=tuple(a.mixers.split(',')), image_size=a.size, dim=a.dim, n_layers=a.layers,
                          video_patch=a.patch, video_temporal_patch=a.tpatch, video_frame_diff=True, video_flow=a.stem in ('libflow',) or a.stem.startswith('L'), video_mean=0.45, video_std=0.25)
model = IXLinx(cfg)
class Stem(nn.Module):
    def __init__(s, D, chans, stride_total, tp):
        super().__init__()
        layers, c, st = [], cfg.video_in_chans + (2 if 'flow' in a.aug else 0), 1
        for i, co in enumerate(chans):
            s_ = 2 if st < stride_total else 1
            layers += [nn.Conv2d(c, co, 3, s_, 1), nn.GELU()]; c = co; st *= s_
        s.net = nn.Sequential(*layers); s.tp = tp
        s.proj = nn.Conv3d(c, D, (tp, 1, 1), (tp, 1, 1))
        s.pe = model.upm.video_proj
    def forward(s, x):
        B, T, C, H, W = x.shape
        if 'flow' in a.aug:
            fr, dt = x[:, :, :3], x[:, :, 3:]
            gy, gx = torch.gradient(fr, dim=(-2, -1))
            x = torch.cat([x, (dt * gx).sum(2, keepdim=True), (dt * gy).sum(2, keepdim=True)], 2)
        f = s.net(x.flatten(0, 1))  # (B*T, c, h, w)
        f = f.unflatten(0, (B, T)).transpose(1, 2)  # (B, c, T, h, w)
        y = s.proj(f); grid = tuple(y.shape[2:]); y = y.flatten(2).transpose(1, 2)
        return y + sincos_3d(y.shape[-1], grid), grid
class FlowEmbed(nn.Module):
    def __init__(s):
        super().__init__()
        from ixlinx.inputs import VideoPatchEmbed
        s.pe = VideoPatchEmbed(a.dim, patch_size=a.patch, temporal_patch=a.tpatch, in_chans=8 + (2 if 'coord' in a.aug else 0))
    def forward(s, x):
        B, T, C, H, W = x.shape
        fr, dt = x[:, :, :3], x[:, :, 3:]
        gy, gx = torch.gradient(fr, dim=(-2, -1))
        ex = [x, -(dt * gx).sum(2, keepdim=True), -(dt * gy).sum(2, keepdim=True)]
        if 'coord' in a.aug:
            yy, xx = torch.meshgrid(torch.linspace(-1, 1, H), torch.linspace(-1, 1, W), indexing='ij')
            ex += [xx * ex[2] - yy * ex[1] , yy.expand(B, T, 1, H, W) * 0]
        return s.pe(torch.cat(ex, 2))
if a.stem == 'flowlin': model.upm.video_proj = FlowEmbed()
elif a.stem.startswith('L'):
    model.upm.video_proj = Stem(a.dim, [int(c) for c in a.stem[1:].split('-')], a.patch, a.tpatch)
elif a.stem not in ('none', 'libflow'):
    chans = [int(c) for c in a.stem.split('-')]
    model.upm.video_proj = Stem(a.dim, chans, a.patch, a.tpatch)
heads = nn.ModuleDict(dict(shape=nn.Linear(a.dim, 3), colour=nn.Linear(a.dim, 6)))
params = list(model.parameters()) + list(heads.parameters())
opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.05)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1, (s + 1) / 50) * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(s, a.steps) / a.steps))))
N = len(Ltr[0]); g = torch.Generator().manual_seed(a.seed)
def fwd(v):
    out = model(video=v); h = out['hidden'].mean(1)
    return out['class_logits'], heads['shape'](h), heads['colour'](h)
t0 = time.time(); perm = torch.randperm(N, generator=g); pos = 0
for step in range(a.steps):
    if pos + a.bs > N: perm = torch.randperm(N, generator=g); pos = 0
    idx = perm[pos:pos + a.bs]; pos += a.bs
    v = d['train']['frames'][idx].float() / 255; y = Ltr[0][idx].clone()
    if 'dihedral' in a.aug:
        vs = []
        for j in range(len(idx)):
            k = random.randrange(8); vv, m = dihedral(v[j], VIDEO_CLASSES[int(y[j])], k); vs.append(vv); y[j] = VIDEO_CLASSES.index(m)
        v = torch.stack(vs)
    if 'shift' in a.aug:
        pd = 4; vp = F.pad(v.flatten(1, 2), (pd, pd, pd, pd), mode='replicate').unflatten(1, v.shape[1:3])
        vs = []
        for j in range(len(v)):
            dy, dx = random.randrange(2 * pd + 1), random.randrange(2 * pd + 1); vs.append(vp[j, ..., dy:dy + a.size, dx:dx + a.size])
        v = torch.stack(vs)
    cl, sl, col = fwd(v)
    loss = F.cross_entropy(cl, y) + F.cross_entropy(sl, Ltr[1][idx]) + F.cross_entropy(col, Ltr[2][idx])
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(params, 1.0); opt.step(); sched.step()
    if step % 100 == 0: print(step, f"{loss.item():.3f}", f"{time.time() - t0:.0f}s", flush=True)
ttrain = time.time() - t0
model.eval()
with torch.no_grad():
    res = {}
    for nm, dd, L in (('test', d['test'], Lte), ('train', d['train'], Ltr)):
        v = dd['frames'][:400].float() / 255; cl, sl, col = fwd(v)
        m = cl.argmax(-1) == L[0][:400]; rot = (L[0][:400] == 4) | (L[0][:400] == 5)
        res[nm] = dict(cls=m.float().mean().item(), rot=m[rot].float().mean().item(), shape=(sl.argmax(-1) == L[1][:400]).float().mean().item(),
                       colour=(col.argmax(-1) == L[2][:400]).float().mean().item())
        sp = sl.argmax(-1); st = L[1][:400]
        res[nm]['shape_conf'] = [[int(((st == i) & (sp == j)).sum()) for j in range(3)] for i in range(3)]
        res[nm]['shape_by_motion'] = [round((sp == st)[L[0][:400] == k].float().mean().item(), 2) for k in range(8)]
print(json.dumps(dict(args=vars(a), train_s=round(ttrain), **res)))
