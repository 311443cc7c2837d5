"""A sibling module: proves the folder is on sys.path in every worker."""


def double(x):
    return 2 * x
