"""Demo and test documents for docflow, and their generator (``python -m samples.generate``)."""
