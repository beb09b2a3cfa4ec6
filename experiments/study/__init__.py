"""The study: the grid of runs, its executors (local, Dask), statistics, report."""
