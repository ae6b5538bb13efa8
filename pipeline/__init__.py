"""docflow pipeline."""
