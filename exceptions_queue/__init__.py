"""docflow exceptions_queue."""
