"""The plugin contract and the plugins that fulfil it.

- :mod:`~nstx.registry.kinds`: the one table of plugin kinds and the forms their
  implementations may take (plain functions included);
- :mod:`~nstx.registry.hookspecs`: the hooks, and the run records lifecycle hooks see;
- :mod:`~nstx.registry.contract`: what built implementations must be;
- :mod:`~nstx.registry.signatures`: a plugin's options, read from its signature;
- :mod:`~nstx.registry.manager`: the pluggy manager that loads and looks them up.
"""

from nstx.registry.kinds import KINDS
from nstx.registry.manager import (
    LIFECYCLE_HOOKS,
    Entry,
    Registry,
    default,
    get,
    load_plugins_dir,
    names,
)

__all__ = ["KINDS", "LIFECYCLE_HOOKS", "Entry", "Registry", "default", "get", "load_plugins_dir", "names"]
