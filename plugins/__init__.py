"""nstx's built-in plugins, registered through the ``nstx`` entry point group like any other."""
