"""Build script: metadata lives in setup.cfg; the package list is found here.

The bundled problem folders live in the top-level ``benchmarks/`` directory of
the source tree and are installed as the package ``hpsearch/benchmarks``, so
``hps list`` finds them from a checkout, an editable install and a regular
``pip install .`` alike. setup.cfg's ``packages = find:`` cannot map a folder
outside ``hpsearch/`` to ``hpsearch.benchmarks`` (and setuptools ignores
setup.cfg's ``packages`` once setup.py passes it), so both facts are here:
every package under ``hpsearch/``, found automatically, plus the benchmarks.
"""
from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["hpsearch", "hpsearch.*"]), "hpsearch.benchmarks"],
    package_dir={"hpsearch.benchmarks": "benchmarks"},
)
