#!/usr/bin/env python
"""Offline docs preview: nbdev's notebook processing + nbconvert HTML, no Quarto needed.

Usage: python tools/build_docs.py [--no-readme] [--check-math fenwick mesanet]
  1. processes `nbs/*.ipynb` into `_proc/` with nbdev (`show_doc` cells render the API docs);
  2. turns each processed notebook into `_site/<name>.html` (the `00_` prefix dropped, as nbdev does),
     with a navigation bar, plus `_site/index.html` from `index.ipynb`;
  3. copies MathJax (from the `jupyter-server-mathjax` package, a dev dependency) into `_site/mathjax/`, so
     equations render offline without a CDN;
  4. writes `README.md` from `index.ipynb`.
The published site is still built by Quarto in `.github/workflows/deploy.yaml`.
"""
import argparse, copy, html, importlib.util, re, shutil, subprocess, sys
from html.parser import HTMLParser
from pathlib import Path
import nbformat, yaml
from nbconvert import HTMLExporter, MarkdownExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from nbdev.config import get_config
from nbdev.serve import proc_nbs

_attr_re = re.compile(r'\{target="_blank"[^}]*\}')
_dir_re = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*)$')

def page_name(nb_path:Path) -> str:
    "`00_core.ipynb` -> `core`, as nbdev names pages."
    return re.sub(r'^\d+[a-z]?_', '', nb_path.stem)

def clean_nb(nb):
    "Make a processed notebook valid for nbconvert and map Quarto directives to tags; returns (nb, title, description)."
    title = desc = None
    cells = []
    for c in nb.cells:
        c.pop('has_sd', None)
        c.metadata.pop('execution', None)
        if c.cell_type == 'raw' and c.source.startswith('---'):
            fm = yaml.safe_load(c.source.strip().strip('-')) or {}
            title, desc = fm.get('title'), fm.get('description')
            continue
        if c.cell_type == 'code':
            for o in c.get('outputs', []):  # Quarto link attributes mean nothing to nbconvert
                if 'text/markdown' in o.get('data', {}): o['data']['text/markdown'] = _attr_re.sub('', o['data']['text/markdown'])
            tags, keep = set(c.metadata.get('tags', [])), []
            for line in c.source.splitlines():
                m = _dir_re.match(line)
                if not m: keep.append(line); continue
                k, v = m.group(1), m.group(2).strip().lower()
                if k in ('echo',) and v == 'false': tags.add('remove_input')
                if k in ('include',) and v == 'false': tags.add('remove_cell')
                if k in ('output',) and v == 'false': tags.add('remove_output')
            c.source = '\n'.join(keep).strip()
            if not c.source: tags.add('remove_input')
            c.metadata['tags'] = sorted(tags)
        cells.append(c)
    nb.cells = cells
    if title is None and cells and cells[0].cell_type == 'markdown' and cells[0].source.startswith('# '):
        title = cells[0].source.splitlines()[0][2:]
    return nb, title, desc

def _nav(pages, current):
    items = ''.join(f'<a href="{p}.html"{" class=current" if p == current else ""}>{html.escape(t)}</a>' for p, t in pages)
    return f'<nav class="ixnav"><b>ixlinx</b> {items}</nav>'

_css = ('<style>.ixnav{position:sticky;top:0;z-index:10;background:#2c3e50;padding:.5em 1em;font-family:sans-serif}'
        '.ixnav a{color:#ecf0f1;margin:0 .6em;text-decoration:none}.ixnav a.current{font-weight:bold;text-decoration:underline}'
        '.ixnav b{color:#fff;margin-right:1em}.ixdesc{font-style:italic;opacity:.75;font-size:1.2em;margin:0 0 1em 0}</style>')

_mathjax_url = 'mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe'  # the config jupyter-server-mathjax ships
# jupyter-server-mathjax ships the STIX-Web web fonts only: tell MathJax to use them (before it loads)
_mathjax_fonts = ('<script type="text/x-mathjax-config">MathJax.Hub.Config({"HTML-CSS": '
                  '{availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null}});</script>\n')

def copy_mathjax(site:Path) -> Path:
    "Copy the MathJax 2 of `jupyter-server-mathjax` into `site/mathjax`; a clear error when it is not installed."
    spec = importlib.util.find_spec('jupyter_server_mathjax')
    if spec is None: sys.exit('build_docs: jupyter-server-mathjax is not installed (pip install -e ".[dev]")')
    src = Path(spec.submodule_search_locations[0])/'static'
    if not (src/'MathJax.js').exists(): sys.exit(f'build_docs: no MathJax.js in {src}')
    return Path(shutil.copytree(src, site/'mathjax'))

def build(root:Path, readme=True):
    cfg = get_config()
    nbs, proc, site = cfg.nbs_path, cfg.config_path/'_proc', cfg.config_path/'_site'
    proc_nbs(path=str(nbs), force=True)
    if site.exists(): shutil.rmtree(site)
    site.mkdir()
    files = sorted(p for p in proc.glob('*.ipynb') if not p.name.startswith(('_', '.')))
    prepared = []
    for f in files:
        nb, title, desc = clean_nb(nbformat.read(f, as_version=4))
        name = page_name(f)
        prepared.append((name, title or name, desc, nb))
    pages = [(n, t) for n, t, _, _ in prepared]
    copy_mathjax(site)
    exp = HTMLExporter(template_name='lab', exclude_input_prompt=True, exclude_output_prompt=True,
                       mathjax_url=_mathjax_url)
    exp.register_preprocessor(TagRemovePreprocessor(remove_input_tags={'remove_input'}, remove_cell_tags={'remove_cell'},
                                                    remove_all_outputs_tags={'remove_output'}, enabled=True), enabled=True)
    base = (cfg.get('doc_host', '') + cfg.get('doc_baseurl', '')).rstrip('/') + '/'
    for name, title, desc, nb in prepared:
        body, _ = exp.from_notebook_node(nb, resources={'metadata': {'name': title}})
        head = _nav(pages, name) + f'<h1 style="padding:0 1rem">{html.escape(title)}</h1>'
        if desc: head += f'<p class="ixdesc" style="padding:0 1rem">{html.escape(desc)}</p>'
        body = re.sub(r'(<body[^>]*>)', lambda m: m.group(1) + _css + head, body, count=1)
        body = body.replace('https://ixlinx.github.io/ixlinx/', '')  # API links point at local pages
        body = body.replace('<!-- Load mathjax -->', _mathjax_fonts + '<!-- Load mathjax -->', 1)
        (site/f'{name}.html').write_text(body)
    for extra in [*nbs.glob('*.png'), *nbs.glob('*.svg')]: shutil.copy(extra, site)
    if readme: write_readme(cfg, proc)
    print(f"built {len(prepared)} pages in {site}")
    return site

class _Text(HTMLParser):
    "Visible text of an HTML page (no scripts, styles or MathJax's hidden copies)."
    def __init__(self): super().__init__(); self.parts, self.skip = [], 0
    def handle_starttag(self, tag, attrs):
        if tag in ('script', 'style'): self.skip += 1
    def handle_endtag(self, tag):
        if tag in ('script', 'style'): self.skip -= 1
    def handle_data(self, data):
        if not self.skip: self.parts.append(data)

def check_math(site:Path, pages) -> bool:
    "Open `pages` in headless Chromium, let MathJax run; False if a page still shows `$$` or has no typeset math."
    exe = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
    if exe is None: sys.exit('build_docs: --check-math needs chromium (apt-get install -y chromium)')
    ok = True
    for p in pages:
        cmd = [exe, '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
               '--virtual-time-budget=20000', '--dump-dom', (site/f'{p}.html').resolve().as_uri()]
        dom = subprocess.run(cmd, capture_output=True, text=True, timeout=300).stdout
        t = _Text()
        t.feed(dom)
        n_raw, n_math = ''.join(t.parts).count('$$'), dom.count('class="MathJax"')
        print(f'{p}: {n_math} typeset equations, {n_raw} literal $$ in the text')
        ok &= n_math > 0 and n_raw == 0
    return ok

def write_readme(cfg, proc):
    "README.md from the processed `index.ipynb`, without hidden cells."
    nb, title, desc = clean_nb(nbformat.read(proc/cfg.readme_nb, as_version=4))
    nb.cells = [c for c in nb.cells if 'remove_cell' not in c.metadata.get('tags', [])]
    exp = MarkdownExporter(exclude_input_prompt=True, exclude_output_prompt=True)
    exp.register_preprocessor(TagRemovePreprocessor(remove_input_tags={'remove_input'}, enabled=True), enabled=True)
    md, _ = exp.from_notebook_node(nb)
    for f in [*cfg.nbs_path.glob('*.svg'), *cfg.nbs_path.glob('*.png')]:  # images beside index.ipynb, from the root
        md = md.replace(f']({f.name})', f']({f.relative_to(cfg.config_path).as_posix()})')
    md = re.sub(r'<!-- WARNING: THIS FILE WAS AUTOGENERATED! DO NOT EDIT! -->\s*', '', md)
    head = f"# {title}\n\n" + (f"> {desc}\n\n" if desc else '')
    (cfg.config_path/'README.md').write_text(head + md.strip() + '\n')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--no-readme', action='store_true', help='do not rewrite README.md')
    ap.add_argument('--check-math', nargs='*', metavar='PAGE',
                    help='after building, check these pages in headless Chromium')
    a = ap.parse_args()
    site = build(Path.cwd(), readme=not a.no_readme)
    if a.check_math and not check_math(site, a.check_math): sys.exit('build_docs: equations not rendered (see above)')
