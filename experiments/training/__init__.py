"""One training run: the model family, its configuration, metrics."""
