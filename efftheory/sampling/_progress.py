"""Progress of a run: a tqdm bar on a terminal or in Jupyter, else one log line per chunk.

Lines go to the `efftheory` logger (`logging.getLogger("efftheory")`) at INFO. When the
program has not configured logging, a handler writing plain lines to stderr is added to
that logger, so a run redirected to a file or a pipe still shows where it is; configure
logging (or set the logger's level to WARNING) to route or silence them.
"""

import importlib.util
import logging
import os
import sys
import time
from typing import Literal

from tqdm import tqdm as text_tqdm

logger = logging.getLogger("efftheory")
ProgressMode = Literal["bar", "lines", "off"]


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    get_ipython = getattr(shell, "get_ipython", None)
    return get_ipython is not None and type(get_ipython()).__name__ == "ZMQInteractiveShell"


def progress_mode(progress: bool | None) -> ProgressMode:
    """`False`: nothing; otherwise a bar on a terminal or in Jupyter, else lines.

    `None` also prints nothing to a terminal under CI (`CI` set), where bars garble logs;
    lines are printed there instead.
    """
    if progress is False:
        return "off"
    if _in_notebook():
        return "bar"
    if sys.stderr.isatty() and (progress or not os.environ.get("CI")):
        return "bar"
    return "lines"


def progress_bar(total: int, initial: int):
    """A tqdm bar: the notebook widget when ipywidgets is importable, else the text bar
    (tqdm.auto without ipywidgets warns "IProgress not found" and falls back anyway)."""
    if _in_notebook() and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        tqdm = text_tqdm
    return tqdm(total=total, initial=initial, unit="chunk", desc="replica-exchange NUTS",
                file=sys.stderr, leave=True)


def _ensure_handler() -> None:
    """Plain lines on stderr when nobody configured logging (no handler up the tree)."""
    if logger.hasHandlers():
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


class ChunkProgress:
    """Reports each finished chunk as a bar update or one log line, per `progress_mode`."""

    def __init__(self, total: int, initial: int, mode: ProgressMode):
        self.total, self.mode = total, mode
        self.start = time.perf_counter()
        self.bar = progress_bar(total, initial) if mode == "bar" else None
        if mode == "lines":
            _ensure_handler()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self.bar is not None:
            self.bar.close()

    def update(self, chunk_index: int, phase: str, info: dict[str, str]) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix({"phase": phase, **info}, refresh=False)
        elif self.mode == "lines":
            figures = "  ".join(f"{name} {value}" for name, value in info.items())
            elapsed = time.perf_counter() - self.start
            logger.info("chunk %d/%d %s  %s  elapsed %.1fs", chunk_index + 1, self.total,
                        phase, figures, elapsed)
