"""Processes: the build of every document, batch grading, the build cache, Dask."""
