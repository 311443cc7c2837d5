"""score = 0 at lr=1e-3, x=1, units=64, layers=3, batch=64, act='relu', opt='adam'; below elsewhere.

Checks that every value arrives with the declared Python type.
"""
import math


def run(config):
    assert isinstance(config["lr"], float) and isinstance(config["x"], float), config
    assert type(config["units"]) is int and type(config["layers"]) is int, config
    assert type(config["batch"]) is int and type(config["steps"]) is int, config
    assert config["act"] in ("relu", "tanh", "sigmoid") and config["opt"] in ("adam", "sgd"), config
    score = -(math.log10(config["lr"]) + 3) ** 2 - (config["x"] - 1) ** 2
    score -= (math.log2(config["units"]) - 6) ** 2 / 4 + (config["layers"] - 3) ** 2 / 4
    score -= abs(math.log2(config["batch"]) - 6) / 2
    score -= {"relu": 0.0, "tanh": 0.5, "sigmoid": 1.0}[config["act"]]
    score -= {"adam": 0.0, "sgd": 0.3}[config["opt"]]
    return score
