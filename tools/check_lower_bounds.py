#!/usr/bin/env python
"""Check ixlinx against the oldest versions its `pyproject.toml` allows.

Usage: python tools/check_lower_bounds.py [fastcore numpy,matplotlib torch fastcore==1.8.0 ...]
For each named dependency it downloads the wheel of the lower bound (`pip download --no-deps`, from the
registry), unpacks it, and runs a smoke test in a subprocess with that wheel first on `PYTHONPATH`, so the
rest of the environment stays as installed. Prints one line per package and exits 1 if any fails.
torch is heavy (~3 GB of wheels with its CUDA libraries): it is checked only when named, e.g. `torch,torchvision`.
"""
import re, subprocess, sys, tempfile, tomllib, zipfile
from pathlib import Path

root = Path(__file__).resolve().parents[1]

# What the smoke test exercises: every module imports, no exported name is None, `ixlinx.train`'s
# imported `load_checkpoint` survives `@patch` of `Trainer.load_checkpoint`, a checkpoint round-trips, a small model with
# every mixer runs forward, backward and generation, and matplotlib draws with numpy.
SMOKE = r'''
import importlib, pkgutil, sys, tempfile, torch, ixlinx
for pkg in sys.argv[1:]:
    assert importlib.import_module(pkg).__file__.startswith(sys.path[1]), f'{pkg} not the downloaded one'
for m in pkgutil.iter_modules(ixlinx.__path__):
    mod = importlib.import_module(f'ixlinx.{m.name}')
    bad = [n for n in getattr(mod, '__all__', []) if getattr(mod, n, None) is None]
    assert not bad, f'ixlinx.{m.name}: exported names bound to None: {bad}'
import ixlinx.train as T, ixlinx.checkpoint as C
assert T.load_checkpoint is C.load_checkpoint, T.load_checkpoint
with tempfile.TemporaryDirectory() as d:
    C.atomic_save({'w': torch.arange(3)}, f'{d}/x.ckpt')
    assert T.load_checkpoint(f'{d}/x.ckpt')['w'].tolist() == [0, 1, 2]
from ixlinx.inputs import ByteTokenizer
from ixlinx.model import IXLinx, IXLinxConfig
torch.manual_seed(0)
cfg = IXLinxConfig.preset('tiny', dim=32, layer_mixers=[('gqa', 'ssm'), ('fenwick',), ('mesa',), ('gqa',)])
model = IXLinx(cfg)
ids = ByteTokenizer().batch(['a red circle moves left'])
model(text=ids, video=torch.rand(1, 4, 3, 32, 32))['logits'].float().mean().backward()  # every mixer, fwd + bwd
assert isinstance(model.eval().generate('a red', max_new_tokens=4, top_k=1), str)
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt, numpy as np
plt.plot(np.arange(3.0), torch.arange(3.0).numpy())
plt.savefig(f'{tempfile.mkdtemp()}/p.png')
print('ok')
'''

def lower_bounds() -> dict:
    "`{package: lowest allowed version}` from `[project] dependencies` in pyproject.toml."
    deps = tomllib.loads((root/'pyproject.toml').read_text())['project']['dependencies']
    out = {}
    for d in deps:
        m = re.match(r'\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,;\s]*)', d)
        if m: out[m.group(1).lower()] = m.group(2)
    return out

def check(pins:list, work:Path) -> bool:
    "Download each `(pkg, version)` of `pins`, put them first on the path, run the smoke test; True if it passes."
    site = work/('site-' + '-'.join(f'{p}{v}' for p, v in pins))
    for pkg, version in pins:
        deps = [] if pkg == 'torch' else ['--no-deps']  # torch's wheel needs its CUDA library wheels beside it
        dl = subprocess.run([sys.executable, '-m', 'pip', 'download', '-q', *deps, f'{pkg}=={version}',
                             '-d', str(site/'whl')], capture_output=True, text=True)
        if dl.returncode:
            print(f'{pkg}=={version}: download failed: {dl.stderr.strip().splitlines()[-1:]}')
            return False
    for f in (site/'whl').glob('*.whl'): zipfile.ZipFile(f).extractall(site)
    env = {'PYTHONPATH': f'{site}:{root}', 'PATH': '/usr/bin:/bin', 'OMP_NUM_THREADS': '1', 'MPLBACKEND': 'Agg'}
    r = subprocess.run([sys.executable, '-c', SMOKE, *(p.replace('-', '_') for p, _ in pins)],
                       capture_output=True, text=True, env=env)
    tail = (r.stdout + r.stderr).strip().splitlines()
    name = ' + '.join(f'{p}=={v}' for p, v in pins)
    print(f'{name}: {"ok" if r.returncode == 0 else "FAILED"}' + ('' if r.returncode == 0 else f': {tail[-1]}'))
    return r.returncode == 0

def parse(arg:str, bounds:dict) -> list:
    "`numpy,matplotlib==3.8` -> `[('numpy', lower bound), ('matplotlib', '3.8')]`: packages checked together."
    return [tuple(a.split('==')) if '==' in a else (a, bounds[a]) for a in arg.split(',')]

if __name__ == '__main__':
    bounds = lower_bounds()
    names = sys.argv[1:] or ['fastcore', 'numpy', 'matplotlib']
    with tempfile.TemporaryDirectory() as d:  # `name` checks the lower bound, `name==X` version X, `a,b` both at once
        ok = [check(parse(n, bounds), Path(d)) for n in names]
    sys.exit(0 if all(ok) else 1)
