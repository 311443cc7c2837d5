"""The objective: -sum of squares of e0..e9."""


def run(config):
    return -sum(config[f"e{i}"] ** 2 for i in range(10))
