"""Problem folders bundled with hpsearch (installed as ``hpsearch/benchmarks``)."""
