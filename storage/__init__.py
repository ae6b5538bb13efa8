"""docflow storage."""
