"""Training: the loop, checkpoints, optimisers, run folders, distributed helpers."""
