"""Label files and converters: reading gt.txt/labels.txt, AI Hub JSON, cleaning labels, duplicates,
splits, cutting Text-in-the-wild boxes, and which labelled samples training can use."""
