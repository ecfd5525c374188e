#!/usr/bin/env python
"""Offline docs preview: nbdev's notebook processing + nbconvert HTML, no Quarto needed.

Usage: python tools/build_docs.py [--no-readme]
  1. processes `nbs/*.ipynb` into `_proc/` with nbdev (`show_doc` cells render the API docs);
  2. turns each processed notebook into `_site/<name>.html` (the `00_` prefix dropped, as nbdev does),
     with a navigation bar, plus `_site/index.html` from `index.ipynb`;
  3. writes `README.md` from `index.ipynb`.
The published site is still built by Quarto in `.github/workflows/deploy.yaml`.
"""
import argparse, copy, html, re, shutil, sys
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
    exp = HTMLExporter(template_name='lab', exclude_input_prompt=True, exclude_output_prompt=True)
    exp.register_preprocessor(TagRemovePreprocessor(remove_input_tags={'remove_input'}, remove_cell_tags={'remove_cell'},
                                                    remove_all_outputs_tags={'remove_output'}, enabled=True), enabled=True)
    base = (cfg.get('doc_host', '') + cfg.get('doc_baseurl', '')).rstrip('/') + '/'
    for name, title, desc, nb in prepared:
        body, _ = exp.from_notebook_node(nb, resources={'metadata': {'name': title}})
        head = _nav(pages, name) + f'<h1 style="padding:0 1rem">{html.escape(title)}</h1>'
        if desc: head += f'<p class="ixdesc" style="padding:0 1rem">{html.escape(desc)}</p>'
        body = re.sub(r'(<body[^>]*>)', lambda m: m.group(1) + _css + head, body, count=1)
        body = body.replace('https://ixlinx.github.io/ixlinx/', '')  # API links point at local pages
        (site/f'{name}.html').write_text(body)
    for extra in nbs.glob('*.png'): shutil.copy(extra, site)
    if readme: write_readme(cfg, proc)
    print(f"built {len(prepared)} pages in {site}")
    return site

def write_readme(cfg, proc):
    "README.md from the processed `index.ipynb`, without hidden cells."
    nb, title, desc = clean_nb(nbformat.read(proc/cfg.readme_nb, as_version=4))
    nb.cells = [c for c in nb.cells if 'remove_cell' not in c.metadata.get('tags', [])]
    md, _ = MarkdownExporter(exclude_input_prompt=True, exclude_output_prompt=True).from_notebook_node(nb)
    md = re.sub(r'<!-- WARNING: THIS FILE WAS AUTOGENERATED! DO NOT EDIT! -->\s*', '', md)
    head = f"# {title}\n\n" + (f"> {desc}\n\n" if desc else '')
    (cfg.config_path/'README.md').write_text(head + md.strip() + '\n')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--no-readme', action='store_true', help='do not rewrite README.md')
    a = ap.parse_args()
    build(Path.cwd(), readme=not a.no_readme)
