"""The knee bone-scan study run on minicnn, by concern: ``scans`` (reading the .mat files,
the phantom, the pseudonyms: the only place patient identifiers are seen), ``crops`` (knee
windows and the crops archive), ``training`` (one run), ``study`` (the grid of runs, its
executors, statistics and report), ``inspection`` (a trained run on one scan); ``grades``
and ``splits`` are shared by all of them, ``cli`` is ``minicnn-knee``."""
