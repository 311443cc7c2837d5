"""Running searches: the engine (ask, submit, collect, store, tell), starting and resuming runs,
stop conditions, and running comparisons."""
