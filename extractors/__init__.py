"""docflow extractors."""
