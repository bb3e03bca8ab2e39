"""A tqdm bar per chunk with rung-level information; silent off a terminal or under CI."""

import os
import sys

from tqdm.auto import tqdm


def progress_enabled(progress: bool | None) -> bool:
    if progress is not None:
        return bool(progress)
    return sys.stderr.isatty() and not os.environ.get("CI")


def progress_bar(total: int, initial: int, enabled: bool) -> tqdm:
    return tqdm(total=total, initial=initial, disable=not enabled, unit="chunk",
                desc="replica-exchange NUTS", file=sys.stderr, leave=True)
