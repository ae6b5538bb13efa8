"""The bottom layer: types, settings, errors and the database that every other package imports."""
