"""docflow cli."""
