"""Where and with what a run was made: versions, machine and time, for netCDF and JSON."""

import datetime
import importlib.metadata
import platform

import jax

# Attribute names: ArviZ's own (`created_at`, `arviz_version`, `inference_library`,
# `inference_library_version`, as `arviz.data.base.make_attrs` writes them) plus ours.
PROVENANCE_KEYS = ("created_at", "inference_library", "inference_library_version",
                   "efftheory_version", "jax_version", "jax_backend", "numpyro_version",
                   "arviz_version", "python_version", "platform", "machine")


def package_version(name: str) -> str:
    """The installed version of distribution `name`, or "unknown" when it has no metadata."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        if name == "efftheory":
            from .. import __version__

            return __version__
        return "unknown"


def provenance() -> dict[str, str]:
    """Versions (efftheory, JAX, NumPyro, ArviZ, Python), machine and the UTC time now."""
    efftheory_version = package_version("efftheory")
    return {
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "inference_library": "efftheory",
        "inference_library_version": efftheory_version,
        "efftheory_version": efftheory_version,
        "jax_version": jax.__version__,
        "jax_backend": jax.default_backend(),
        "numpyro_version": package_version("numpyro"),
        "arviz_version": package_version("arviz"),
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
    }
