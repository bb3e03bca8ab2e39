"""MkDocs hook: the notebook pages (mkdocs-jupyter) load nothing from the network, and their
formulas are typeset by the site's own MathJax like every other page's.

mkdocs-jupyter renders a notebook with nbconvert, whose template puts on every page a
``<script>`` for MathJax 2 (from a CDN unless a URL is configured) with its own
configuration, and a module script that imports Mermaid from a CDN when the page holds a
diagram. Both are removed here. nbconvert leaves the math of markdown cells as ``$...$``
and ``$$...$$`` text, which the site's MathJax configuration (``javascripts/mathjax.js``:
only ``\\(...\\)`` and ``\\[...\\]`` inside elements of class ``arithmatex``) does not
look at; its markdown renderer writes them here as the spans that pymdownx.arithmatex
writes on the other pages; so are the ``$...$`` in the titles of the page's table of
contents. Each notebook page also gets a link to its ``.ipynb``, which ``include_source``
copies beside the page.
"""

import re
from html import escape
from pathlib import PurePosixPath

from nbconvert.filters.markdown_mistune import IPythonRenderer


def _inline_math(self, body: str) -> str:
    return rf'<span class="arithmatex">\({escape(body, quote=False)}\)</span>'


def _block_math(self, body: str) -> str:
    # A span, not a div: mistune finds $$...$$ inside a paragraph.
    return rf'<span class="arithmatex">\[{escape(body, quote=False)}\]</span>'


def _latex_environment(self, name: str, body: str) -> str:
    name, body = escape(name, quote=False), escape(body, quote=False)
    return rf'<span class="arithmatex">\[\begin{{{name}}}{body}\end{{{name}}}\]</span>'


IPythonRenderer.inline_math = _inline_math
IPythonRenderer.block_math = _block_math
IPythonRenderer.latex_environment = _latex_environment

OVERVIEW = "notebooks.md"  # the page about the notebooks
_MATHJAX_2 = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->",
                        re.S)
_TITLE_MATH = re.compile(r"(?<![\\$])\$([^$]+?)\$")
_MERMAID = re.compile(r'<script type="module">(?:(?!</script>).)*?\bmermaid\b.*?</script>',
                      re.S)


def _typeset_titles(items) -> None:
    for item in items:  # titles are HTML already: the math in them is escaped
        item.title = _TITLE_MATH.sub(
            lambda math: rf'<span class="arithmatex">\({math[1]}\)</span>', item.title)
        _typeset_titles(item.children)


def on_page_content(html, page, config, files):
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    _typeset_titles(page.toc)
    html, found = _MATHJAX_2.subn("", html)
    if found != 1:
        raise RuntimeError(f"{page.file.src_uri}: nbconvert's MathJax 2 block not found "
                           "once; docs/hooks/notebooks.py needs updating for this nbconvert")
    html = _MERMAID.sub("", html)
    name = PurePosixPath(page.file.src_uri).name
    overview = files.get_file_from_path(OVERVIEW).url_relative_to(page.file)
    download = (f'<p><a href="{name}" download>Download this notebook</a> (with the '
                f'outputs shown here; <a href="{overview}">Notebooks</a> says how they are '
                "made).</p>")
    title_end = html.find("</h1>")
    if title_end < 0:
        return download + html
    title_end += len("</h1>")
    return html[:title_end] + download + html[title_end:]
