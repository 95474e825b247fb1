"""Training: the loop, its options, charset remapping, optimisers, sampling, run folders, DDP helpers."""
