"""Optimising the image: the step loop, coarse-to-fine levels, and an L-BFGS without host reads."""
