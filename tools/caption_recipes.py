"""Recipe experiments on the main job's caption target (issue 19): one `ixlinx train` run with task overrides and
front-end variants, scored on the held-out test split and 400 training clips with the word that went wrong.
Every run starts from the recipe before this study (batch 32, 1000 steps, no flips: BASE below), not from today's
defaults; "aug": "dihedral" is what `--augment dihedral` now does.

One run (1 thread, the default 4000 clips; about 4-6 minutes when two run side by side on 2 cores):
  python tools/caption_recipes.py NAME '{"batch_size": 16, "max_steps": 2000}' '{"shift": 4}'
The second JSON picks the variants, any of: "aug": "dihedral"|"hflip" (symmetries of the square, motion words of the
caption and the class mapped), "shift": P (random translation by up to P px, edges repeated), "stem": C (a 3x3 conv of
C channels before the tubelets), "prefix": N (bidirectional attention over the first N tokens, the video), "key": 1
(tokens of the middle frame added). Each run writes runs/<NAME>.json under --dir.
  python tools/caption_recipes.py --collect     # gathers them into nbs/results/caption_recipes.json
"""
import sys, json, time, collections, os
from pathlib import Path
import torch, torch.nn.functional as F
DIR = Path(os.environ.get('RECIPES_DIR', 'runs/caption_recipes'))
if sys.argv[1:2] == ['--collect']:
    from ixlinx.core import save_result
    runs = [json.loads(p.read_text()) for p in sorted(DIR.glob('*.json'))]
    print(save_result('caption_recipes', dict(runs=runs, threads=1, base=dict(batch_size=32, max_steps=1000, augment='none'), note='two or three runs side by side on the 2 cores')))
    sys.exit()
import ixlinx.task as T
from ixlinx.data import collate_clips
from torch.utils.data import DataLoader
name, over = sys.argv[1], json.loads(sys.argv[2])
extra = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
out = DIR/name
BASE = dict(batch_size=32, max_steps=1000, augment='none')  # the recipe before this study: every run starts from it
tc = T.TaskConfig(output_dir=str(out), threads=1, workers=1, quiet=True, **{**BASE, **over})
DIR.mkdir(parents=True, exist_ok=True)
if extra.get('aug'):
    from ixlinx.shapes import dihedral
    from ixlinx.inputs import ByteTokenizer
    tok = ByteTokenizer(); orig_loss2 = T.caption_loss
    gs = {'dihedral': range(8), 'hflip': (0, 2)}[extra['aug']]
    def aug(model, b):
        if not model.training: return orig_loss2(model, b)
        classes = d['classes']; vids, texts, labels = [], [], []
        for v, ids, lab in zip(b['video'], b['ids'], b['label']):
            g = int(gs[torch.randint(len(gs), ()).item()])
            m = classes[int(lab)]
            v2, m2 = dihedral(v, m, g)
            t = tok.decode(ids)
            words = t.split(' ')
            if m2 != m: words = [m2 if w == m else w for w in words]
            vids.append(v2); texts.append(' '.join(words)); labels.append(classes.index(m2))
        ids = tok.batch(texts, add_eos=True)
        tgt = ids.clone(); tgt[:, :len(tok.encode(T.PROMPT + ' '))] = tok.pad_id
        tgt[ids == tok.pad_id] = tok.pad_id
        return orig_loss2(model, dict(b, video=torch.stack(vids), ids=ids, tgt=tgt, label=torch.tensor(labels)))
    T.caption_loss = aug
if extra.get('shift'):
    p = extra['shift']; orig_loss3 = T.caption_loss
    def shifted(model, b):
        if not model.training: return orig_loss3(model, b)
        v = b['video']; B, Tn, C, S, _ = v.shape
        x = F.pad(v.reshape(B, Tn * C, S, S).float(), (p, p, p, p), mode='replicate')
        o = torch.randint(0, 2 * p + 1, (B, 2))
        y = torch.stack([x[i, :, o[i, 0]:o[i, 0] + S, o[i, 1]:o[i, 1] + S] for i in range(B)])
        return orig_loss3(model, dict(b, video=y.reshape(B, Tn, C, S, S).to(torch.uint8)))
    T.caption_loss = shifted
if extra.get('stem'):
    import torch.nn as nn
    hid = extra['stem']; Orig = T.IXLinx
    def make(cfg):
        m = Orig(cfg); p = m.upm.video_proj.proj
        class Seq(nn.Sequential):
            @property
            def weight(self): return self[-1].weight
        m.upm.video_proj.proj = Seq(nn.Conv3d(p.in_channels, hid, (1, 3, 3), padding=(0, 1, 1)), nn.GELU(),
                                              nn.Conv3d(hid, p.out_channels, p.kernel_size, p.stride))
        return m
    T.IXLinx = make
if extra.get('prefix'):
    import ixlinx.gqa as G
    P = extra['prefix']; orig_attend = G.GroupedQueryAttention._attend
    def attend(self, q, k, v, start):
        Tq, Tk = q.shape[-2], k.shape[-2]
        if Tq == Tk and start == 0 and Tq > 1:
            i = torch.arange(Tq)
            m = (i[:, None] >= i[None, :]) | ((i[:, None] < P) & (i[None, :] < P))
            return F.scaled_dot_product_attention(q, k, v, attn_mask=m, enable_gqa=True)
        return orig_attend(self, q, k, v, start)
    G.GroupedQueryAttention._attend = attend
if extra.get('key'):
    import torch.nn as nn, ixlinx.model as M
    Orig2 = T.IXLinx
    def make2(cfg):
        m = Orig2(cfg); p = cfg.video_patch
        m.upm.key_proj = nn.Conv2d(3, cfg.dim, p, p)
        return m
    T.IXLinx = make2
    orig_embed = M.UnifiedProjection._embed
    def embed(self, name, x):
        e = orig_embed(self, name, x)
        if name != 'video': return e
        cfg = self.cfg
        k = (x[:, x.shape[1] // 2] - cfg.video_mean) / cfg.video_std  # (B, 3, S, S) the middle frame
        y = self.key_proj(k)  # (B, D, h, w)
        h, w = y.shape[-2:]
        y = y.flatten(2).transpose(1, 2) + self.video_proj.pos_embed((1, h, w))
        return torch.cat([e, y], 1)
    M.UnifiedProjection._embed = embed
torch.set_num_threads(1)
t0 = time.perf_counter()
d = T.task_data(tc)
tr = T.task_trainer(tc, d, torch.device('cpu'))
tr.fit()
t_train = time.perf_counter() - t0
def words(model, clips, n=None):
    cnt = collections.Counter(); tot = 0; ok = 0
    for i, b in enumerate(DataLoader(clips, batch_size=200, collate_fn=collate_clips)):
        if n and i * 200 >= n: break
        text, _ = T.describe(model, b['video'].float() / 255)
        for t, c in zip(text, b['caption']):
            tot += 1; ok += t == c
            tw, cw = t.split(), c.split()
            for j, wd in enumerate(cw):
                if j >= len(tw) or tw[j] != wd: cnt[j] += 1
    return dict(caption=ok / tot, n=tot, word_err=dict(cnt))
res = dict(name=name, over=over, extra=extra, seconds=t_train, params=tr.model.parameter_count())
with tr.ema.average_parameters(tr.model):
    res['test'] = words(tr.model, d['test'])
    res['train'] = words(tr.model, d['train'], 400)
(DIR/f'{name}.json').write_text(json.dumps(res, indent=1))
print(json.dumps(res), flush=True)
