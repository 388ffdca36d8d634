"""nstx's version, read from the installed distribution (what runs record as ``version.nstx``)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nstx")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
