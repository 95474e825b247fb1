"""Synthetic text lines: fonts, texts, the renderer, planned and seeded generation into an LMDB or
images, TOML recipes, and the stream that renders a recipe on the fly for training. Synthetic whole
pages (``pages*``, ``page_set``) draw their lines with the same renderer."""
