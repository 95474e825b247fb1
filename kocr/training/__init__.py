"""Training: the loop, its start-up, data, augmentation and reporting, its options, charset remapping,
optimisers, sampling, run folders, DDP helpers."""
