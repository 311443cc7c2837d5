"""Build script: metadata lives in setup.cfg.

The bundled problem folders live in the top-level ``benchmarks/`` directory of
the source tree and are installed as the package data ``hpsearch/benchmarks``,
so ``hps list`` finds them from a checkout, an editable install and a regular
``pip install .`` alike.
"""
from setuptools import setup

setup(
    package_dir={"hpsearch.benchmarks": "benchmarks"},
)
