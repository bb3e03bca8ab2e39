"""The documentation: the site builds with ``mkdocs build --strict``, and every command and
code block that README.md and docs/*.md show is run by a test.

The coverage rule. Every fenced block whose language is a shell (``bash``, ``console``,
``sh``, ``shell``, or no language at all) or ``python`` is, unless annotated, *executed*
by `test_page_runs`: page by page, top to bottom, in a fresh folder, at the sizes shown.
A block that must not run here is preceded (blank lines aside) by one of

    <!-- not-run: REASON -->        a GPU-only preset, an install from PyPI, ...: the reason
                                    is required and shown in the test's failure message;
    <!-- covered-by: TARGET -->     TARGET is a file of the repository (``.ci/run``) or a test
                                    (``tests/test_x.py::test_name``) that must exist.

README's ``<!-- main-command -->`` and ``<!-- test-command -->`` markers count as
covered-by `test_readme_main_command` and ``.ci/run``. ``<!-- file: NAME -->`` before a
block (a ``toml`` grid, say) writes it as ``NAME`` into the page's folder for the commands
after it. `test_every_block_is_run_or_annotated` fails on a malformed annotation, a
covered-by target that does not exist, a code language that would slip through the rule
(``pycon``, ``ipython``), and an unannotated block that installs packages (``pip install``,
``venv``): installs are covered by ``.ci/run`` or not run at all.

How blocks run. Python blocks share one namespace per page (like a notebook) and run in
this process; so do ``efftheory ...`` commands, through the console script's entry point
``efftheory._cli.main`` (argv parsed with `shlex`), so that one JIT compilation serves every
example of the same size. Any other command line goes to ``bash -c`` with the venv's
``bin`` first on ``PATH``. The page's folder holds links to the repository's top-level
files and folders (``experiments/``, ``models/``, ...), so commands that name them work,
while ``results/`` and ``runs/`` are the folder's own. `SamplingWarning`s (tiny examples
warn about R-hat and ESS, as they should) are ignored; every other warning is an error, as
in the rest of the suite.
"""

import contextlib
import dataclasses
import os
import re
import shlex
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *DOCS.rglob("*.md")])

SHELL_LANGUAGES = {"", "bash", "console", "sh", "shell", "shell-session", "zsh"}
PYTHON_LANGUAGES = {"python", "py", "python3"}
# Languages that look like code but this rule cannot run: write ```python instead.
REJECTED_LANGUAGES = {"pycon", "ipython", "ipython3", "jupyter"}
README_MARKERS = {"main-command": "tests/test_docs.py::test_readme_main_command",
                  "test-command": ".ci/run"}
# Top-level entries not linked into a page's folder: outputs stay in the folder.
NOT_LINKED = {".git", ".venv", "venv", "results", "runs", "site", "build", "dist",
              ".pytest_cache", ".ruff_cache"}

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")
_ANNOTATION = re.compile(r"^<!--\s*(?P<key>[\w-]+)\s*(?::\s*(?P<value>.*?))?\s*-->$")


@dataclasses.dataclass(frozen=True)
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    language: str
    code: str
    annotation: tuple[str, str] | None  # (key, value) of the comment right before it

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def kind(self) -> str | None:
        if self.language in SHELL_LANGUAGES:
            return "shell"
        if self.language in PYTHON_LANGUAGES:
            return "python"
        return None


def parse_blocks(page: Path) -> list[Block]:
    """Every fenced block of a Markdown page, with the HTML comment right before it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        language = opening["info"].strip().split(" ")[0].lstrip(".").lower()
        body, j = [], i + 1
        while j < len(lines) and not (lines[j].strip().startswith(fence)
                                      and lines[j].strip().strip(fence[0]) == ""):
            body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j])
            j += 1
        annotation, k = None, i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        if k >= 0 and (comment := _ANNOTATION.match(lines[k].strip())):
            annotation = (comment["key"], comment["value"] or "")
        blocks.append(Block(page, i + 1, language, "\n".join(body) + "\n", annotation))
        i = j + 1
    return blocks


def _covered_by_target_exists(target: str) -> bool:
    path, _, test_name = target.partition("::")
    file = ROOT / path
    if not file.is_file():
        return False
    return not test_name or re.search(rf"^\s*(async )?def {re.escape(test_name)}\(",
                                      file.read_text(encoding="utf-8"), re.M) is not None


def annotation_problem(block: Block) -> str | None:
    """Why a block's annotation is unacceptable, or None."""
    if block.language in REJECTED_LANGUAGES:
        return f"language {block.language!r} cannot be run by the docs test: use ```python"
    if block.annotation is None:
        return None
    key, value = block.annotation
    if key == "not-run":
        return None if value else "<!-- not-run: REASON --> needs a reason"
    if key == "covered-by":
        if not value:
            return "<!-- covered-by: TARGET --> needs a target"
        if not _covered_by_target_exists(value):
            return f"covered-by target {value!r} does not exist"
        return None
    if key in README_MARKERS or key == "file":
        return None if key != "file" or value else "<!-- file: NAME --> needs a name"
    return None  # other comments (e.g. lint pragmas) annotate nothing: the block runs


_INSTALLS = re.compile(r"\bpip3?\b.*\binstall\b|\bvenv\b|\bapt(-get)?\s+install\b")


def installs_packages(block: Block) -> bool:
    return block.kind == "shell" and any(
        _INSTALLS.search(command) for command in shell_commands(block.code, block.language))


def is_executed(block: Block) -> bool:
    if block.kind is None:
        return False
    key = block.annotation[0] if block.annotation else None
    return key not in {"not-run", "covered-by", *README_MARKERS}


def shell_commands(code: str, language: str) -> list[str]:
    """Command lines of a shell block: ``$ `` prompts in console blocks (other lines are
    output), every non-comment line otherwise; backslash continuations joined."""
    commands, pending = [], ""
    for raw in code.splitlines():
        line = raw.strip() if pending else raw.rstrip()
        if not pending:
            if language in {"console", "shell-session"}:
                if not line.lstrip().startswith("$ "):
                    continue
                line = line.lstrip()[2:]
            if not line.strip() or line.lstrip().startswith("#"):
                continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        commands.append(pending + line)
        pending = ""
    assert not pending, f"dangling line continuation in {code!r}"
    return commands


_OPERATORS = set("|&;<>()`$")
# Commands in the docs run at illustration sizes; a full-size one needs an annotation.
COMMAND_TIMEOUT = 120


def _in_process_argv(command: str) -> list[str] | None:
    """argv after ``efftheory`` if the line is one plain efftheory command, else None."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    tokens = list(lexer)
    if not tokens or tokens[0] != "efftheory":
        return None
    if any(token and set(token) <= _OPERATORS for token in tokens):
        return None
    return tokens[1:]


def run_shell_command(command: str, folder: Path) -> None:
    if _INSTALLS.search(command):
        pytest.fail(f"`{command}` installs packages: annotate its block (see the module "
                    "docstring)")
    argv = _in_process_argv(command)
    if argv is not None:
        from efftheory._cli import main

        try:
            status = main(argv)
        except SystemExit as exit_:  # --help
            status = exit_.code
        assert status in (0, None), f"`{command}` exited with {status}"
        return
    environment = {**os.environ,
                   "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    try:
        completed = subprocess.run(["bash", "-c", command], cwd=folder, env=environment,
                                   capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{command}` ran past {COMMAND_TIMEOUT} s: commands in the docs run at "
                    "illustration sizes; put <!-- not-run: REASON --> or <!-- covered-by: "
                    "TARGET --> before a full-size one")
    assert completed.returncode == 0, (
        f"`{command}` exited with {completed.returncode}:\n{completed.stdout}\n"
        f"{completed.stderr}")


@contextlib.contextmanager
def page_folder(tmp_path: Path, monkeypatch):
    for entry in ROOT.iterdir():
        if entry.name not in NOT_LINKED:
            (tmp_path / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        from efftheory import SamplingWarning

        warnings.simplefilter("ignore", SamplingWarning)
        yield tmp_path


def run_page(page: Path, folder: Path) -> None:
    namespace = {"__name__": "__docs__"}
    for block in parse_blocks(page):
        if block.annotation and block.annotation[0] == "file":
            (folder / block.annotation[1]).write_text(block.code, encoding="utf-8")
        if not is_executed(block):
            continue
        if block.kind == "python":
            exec(compile(block.code, block.where, "exec"), namespace)  # noqa: S102
        else:
            for command in shell_commands(block.code, block.language):
                run_shell_command(command, folder)


ALL_BLOCKS = [block for page in PAGES for block in parse_blocks(page)]
EXECUTED_PAGES = sorted({block.page for block in ALL_BLOCKS if is_executed(block)})


# --------------------------------------------------------------------------- the rule


def test_every_block_is_run_or_annotated():
    problems = [f"{block.where}: {problem}" for block in ALL_BLOCKS
                if (problem := annotation_problem(block))]
    problems += [f"{block.where}: installs packages, which the docs test never does; put "
                 "<!-- covered-by: .ci/run --> or <!-- not-run: REASON --> before it"
                 for block in ALL_BLOCKS if is_executed(block) and installs_packages(block)]
    assert not problems, "\n".join(problems)
    # The rule sees the pages it should: the README's blocks, the quickstart's commands.
    kinds = {(block.page.name, block.kind) for block in ALL_BLOCKS}
    assert {("README.md", "shell"), ("README.md", "python"), ("quickstart.md", "shell"),
            ("quickstart.md", "python")} <= kinds


def test_parser_and_annotations(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n\n<!-- not-run: gpu-only preset -->\n\n```bash\nefftheory run x\n"
                    "```\n\n```console\n$ efftheory models \\\n  --json\noutput line\n```\n"
                    "<!-- covered-by: tests/test_docs.py::no_such_test -->\n```\necho\n```\n"
                    "    ```python\n    print(1)\n    ```\n```pycon\n>>> 1\n```\n")
    blocks = parse_blocks(page)
    assert [(b.line, b.language, b.annotation) for b in blocks] == [
        (5, "bash", ("not-run", "gpu-only preset")), (9, "console", None),
        (15, "", ("covered-by", "tests/test_docs.py::no_such_test")),
        (18, "python", None), (21, "pycon", None)]
    assert [is_executed(b) for b in blocks] == [False, True, False, True, False]
    assert shell_commands(blocks[1].code, "console") == ["efftheory models  --json"]
    assert blocks[3].code == "print(1)\n"
    assert "does not exist" in annotation_problem(blocks[2])
    assert "use ```python" in annotation_problem(blocks[4])
    assert _in_process_argv("efftheory run a --out 'b c'  # note") == [
        "run", "a", "--out", "b c"]
    assert _in_process_argv("efftheory models --json > models.json") is None
    assert _in_process_argv("python -m efftheory") is None


# ------------------------------------------------------------------------ running pages


# Pages whose code is also covered by unit tests, run with the slow tests for CI's time
# budget (docs/sweeps.md: tests/test_sweep.py runs the same sweeps).
SLOW_PAGES = {ROOT / "docs" / "sweeps.md"}


@pytest.mark.parametrize("page", [
    pytest.param(page, marks=pytest.mark.slow) if page in SLOW_PAGES else page
    for page in EXECUTED_PAGES], ids=lambda page: str(page.relative_to(ROOT)))
def test_page_runs(page, tmp_path, monkeypatch):
    with page_folder(tmp_path, monkeypatch) as folder:
        run_page(page, folder)


TINY_STUDY_FLAGS = ["--num-rungs", "4", "--chains", "2", "--warmup", "50", "--draws", "50",
                    "--n-max", "100"]


def test_readme_main_command(tmp_path, monkeypatch):
    """The README's main command: its install steps are what .ci/run does too (the test
    command installs the same package); its job runs here. A study (``efftheory run``) runs
    through the same command line with tiny-size flags appended (the full preset takes
    minutes: it is the main job itself); any other efftheory command runs as written."""
    (block,) = [b for b in parse_blocks(ROOT / "README.md")
                if b.annotation == ("main-command", "")]
    steps = [step.strip() for step in block.code.strip().split("&&")]
    assert steps[:2] == ["python3 -m venv .venv", ".venv/bin/pip install ."], steps
    assert len(steps) == 3 and steps[2].startswith(".venv/bin/efftheory "), steps
    argv = _in_process_argv(steps[2].removeprefix(".venv/bin/"))
    assert argv is not None, steps[2]
    if argv[0] == "run":
        argv += [*TINY_STUDY_FLAGS, "--out", "results/main-command"]
    with page_folder(tmp_path, monkeypatch) as folder:
        run_shell_command(shlex.join(["efftheory", *argv]), folder)
    assert any((tmp_path / "results").rglob("*.png")), "the main command wrote no figure"


def test_install_page_shows_the_readme_commands():
    """docs/install.md repeats the README's two commands; they must not drift apart."""
    readme = {b.annotation[0]: b.code for b in parse_blocks(ROOT / "README.md")
              if b.annotation and b.annotation[0] in README_MARKERS}
    install = {b.annotation[1]: b.code for b in parse_blocks(DOCS / "install.md")
               if b.annotation and b.annotation[0] == "covered-by"}
    for marker, target in README_MARKERS.items():
        assert install.get(target) == readme[marker], marker


# ------------------------------------------------------------------------------ the site


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """``mkdocs build --strict`` with every proxy pointed at a closed port: the build must
    not fetch anything. Returns the site folder and the build's log."""
    closed = "http://127.0.0.1:9"
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "NO_PROXY": "", "no_proxy": "",
                   **{name: closed for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy",
                                                "https_proxy", "ALL_PROXY", "all_proxy")}}
    folder = tmp_path_factory.mktemp("mkdocs")
    site = folder / "site"
    completed = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
        cwd=folder, env=environment, capture_output=True, text=True, timeout=300)
    return site, completed.returncode, completed.stdout + completed.stderr


_MARKDOWN_CELL = re.compile(r'<div class="[^"]*\bjp-MarkdownOutput\b[^"]*"[^>]*>(.*?)</div>',
                            re.S)
_CODE = re.compile(r"<code\b.*?</code>", re.S)


def test_site_builds_strict(built_site):
    site, returncode, log = built_site
    assert returncode == 0, log
    assert "WARNING" not in log, log

    import efftheory

    models_page = (site / "models" / "index.html").read_text(encoding="utf-8")
    for row in efftheory.list_models():
        assert f'id="{row["name"]}"' in models_page, row["name"]  # its section
        assert f'<a href="#{row["name"]}">' in models_page, row["name"]  # its table row
    # Math in pages and docstrings is left for MathJax in arithmatex's generic spans.
    api_page = (site / "api" / "modes" / "index.html").read_text(encoding="utf-8")
    assert r'<span class="arithmatex">\(c_k(w, b)' in api_page
    assert 'class="doc doc-heading"' in api_page and "mode_coefficients" in api_page
    # Each notebook is a page that shows its committed outputs and its formulas in the
    # same spans, with the .ipynb beside it for its download link.
    for notebook in (DOCS / "notebooks").glob("*.ipynb"):
        folder = site / "notebooks" / notebook.stem
        page = (folder / "index.html").read_text(encoding="utf-8")
        assert (folder / notebook.name).is_file(), notebook.name
        assert f'<a href="{notebook.name}" download>' in page, notebook.name
        assert re.search(r'<img [^>]*src="data:image/png;base64,', page), notebook.name
        assert r'<span class="arithmatex">\(\hat\lambda(n)\)</span>' in page, notebook.name
        left = [text for cell in _MARKDOWN_CELL.findall(page)
                if "$" in (text := _CODE.sub("", cell))]
        assert not left, f"{notebook.name}: $ left for no one to typeset in {left[:2]}"


# What a page loads by itself (not what it links to): scripts, stylesheets, icons, images,
# frames, and CSS imports and fonts.
_LOADED = re.compile(r"<(?:script|img|iframe|source|embed)\b[^>]*?\bsrc=[\"']([^\"']+)"
                     r"|<link\b[^>]*?\bhref=[\"']([^\"']+)"
                     r"|@import\s+(?:url\()?[\"']?([^\"')\s;]+)|url\([\"']?([^\"')]+)")
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.I)
# Scripts that fetch by themselves (``import("https://...")``): a URL as a string literal.
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.S | re.I)
_URL_LITERAL = re.compile(r"""["'`]((?:[a-z][a-z0-9+.-]*:)?//[^"'`\s]*)""", re.I)


def test_site_loads_nothing_from_the_network(built_site):
    """The reader's browser needs no network either: no page or stylesheet of the site
    loads a script, stylesheet, font or image from another host (MathJax is shipped in
    ``javascripts/vendor/``); links to other sites are fine."""
    site, returncode, log = built_site
    assert returncode == 0, log
    external = sorted({f"{path.relative_to(site)}: {url}"
                       for path in [*site.rglob("*.html"), *site.rglob("*.css")]
                       for match in _LOADED.finditer(path.read_text(encoding="utf-8"))
                       for url in match.groups() if url and _EXTERNAL.match(url)})
    external += sorted({f"{path.relative_to(site)}: {url} (in a script)"
                        for path in site.rglob("*.html")
                        for script in _SCRIPT.finditer(path.read_text(encoding="utf-8"))
                        for url in _URL_LITERAL.findall(script.group(1))})
    assert not external, "pages load from the network:\n" + "\n".join(external)
    concepts = (site / "concepts" / "index.html").read_text(encoding="utf-8")
    assert "javascripts/vendor/mathjax/tex-svg.js" in concepts
    assert (site / "javascripts" / "vendor" / "mathjax" / "tex-svg.js").is_file()


_BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome",
             "google-chrome-stable")


# Pages and how many formulas each has at least: a Markdown page (pymdownx.arithmatex) and
# a notebook (mkdocs-jupyter; docs/hooks/notebooks.py writes its math in the same spans).
_TYPESET_PAGES = {"concepts": 20, "notebooks/tempering_study": 10}


@pytest.mark.parametrize("page_name", _TYPESET_PAGES)
def test_formula_renders_offline(built_site, tmp_path, page_name):
    """A page's formulas are typeset by the shipped MathJax in a headless Chromium that
    cannot reach the network: its own network namespace where ``unshare`` allows one, and
    every host name unresolvable and every proxy a closed port in any case."""
    site, returncode, log = built_site
    assert returncode == 0, log
    browser = next((found for name in _BROWSERS if (found := shutil.which(name))), None)
    if browser is None:
        pytest.skip("no headless Chromium on PATH (Debian: apt-get install "
                    "chromium-headless-shell); the site's offline check above still ran")
    isolate = (["unshare", "-rn"] if shutil.which("unshare") and subprocess.run(
        ["unshare", "-rn", "true"], capture_output=True).returncode == 0 else [])
    page = site / page_name / "index.html"
    completed = subprocess.run(
        [*isolate, browser, "--headless", "--no-sandbox", "--disable-gpu",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
         "--virtual-time-budget=20000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    dom = completed.stdout
    assert completed.returncode == 0, completed.stderr[-2000:]
    typeset = dom.count('<mjx-container class="MathJax')
    assert typeset >= _TYPESET_PAGES[page_name] and 'jax="SVG"' in dom, (
        typeset, completed.stderr[-2000:])
    assert '<g data-mml-node="merror"' not in dom  # a formula MathJax could not parse
    # Every arithmatex span was replaced by MathJax's output: no raw \( or \[ is left.
    raw = re.findall(r'class="arithmatex">\s*\\[(\[][^<]{0,60}', dom)
    assert not raw, raw[:5]


# ------------------------------------------------------------------ citations and pointers

# Documents that ship with neither the package nor the site: the project's working spec and
# its source texts. Cite a paper or the post by title, or point at a docs page, instead.
_UNSHIPPED = re.compile(r"\bSPEC\b|shared/seeds|\.\./shared/")


def test_no_pointers_to_unshipped_documents():
    files = [ROOT / "README.md", ROOT / "CITATION.cff", ROOT / "mkdocs.yml",
             *[path for folder in ("efftheory", "experiments", "models", "docs")
               for path in (ROOT / folder).rglob("*")
               if path.suffix in {".py", ".md", ".toml", ".json", ".ipynb"}]]
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}" for path in files
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if _UNSHIPPED.search(line)]
    assert not found, "\n".join(found)


def test_citation_file():
    import yaml

    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "version", "license"):
        assert citation.get(key), key
    for reference in citation["references"]:
        assert reference["type"] and reference["title"] and reference["authors"], reference
