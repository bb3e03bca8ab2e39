"""ArviZ, imported once for the package without its notice about the 1.0 refactor.

ArviZ 0.22 and 0.23 warn on import, once a day per user (a date stamp in the user's cache
folder), that 1.0 reorganises the package (arviz-base, -stats, -plots). pyproject.toml pins
`arviz<1.0`, so the notice does not concern this package; left alone it would fail the first
`import efftheory` of a day wherever warnings are errors (the test suite on a fresh machine).
Only that notice is ignored: its message starts with a newline, hence the leading `\\s*`.
"""

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"\s*ArviZ is undergoing a major refactor",
                            category=FutureWarning)
    import arviz as az

__all__ = ["az"]
