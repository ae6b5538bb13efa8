"""docflow flows."""
