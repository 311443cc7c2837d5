"""The three branches; every one reads only its own (active) dimensions."""


def objective(config):
    """The function's value at a configuration (only active dimensions are present)."""
    branch = config["branch"]
    if branch == "a":
        return 1.0 + (config["x_a"] - 1.0) ** 2
    if branch == "b":
        n = config["n_b"]
        tail = (config["z_b"] - 0.7) ** 2 if n >= 3 else 0.3
        return (config["y_b"] - 0.3) ** 2 + 0.1 * (4 - n) + tail
    slow = 0.05 if config["mode"] == "slow" else 0.0
    return 0.25 + (config["w_c"] - 0.5) ** 2 + slow + 0.02 * (config["k_c"] - 1)


def run(config):
    return objective(config)
