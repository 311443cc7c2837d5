"""Asserts that config holds exactly the active dimensions (by its own reading of the tree), no forbidden pair."""
import math


def expected_active(c):
    on = {"opt", "lr", "layers", "dropout", "steps"}
    if c["opt"] in ("sgd", "rmsprop"):
        on.add("momentum")
    if c["opt"] == "sgd":
        on.add("nesterov")
    if c["layers"] >= 2:
        on.add("units2")
    if c["layers"] >= 3:
        on.add("units3")
        if c["opt"] in ("adam", "sgd"):
            on.add("act3")
            if c["act3"] == "relu":
                on.add("slope")
    return on


def run(config):
    assert set(config) == expected_active(config), sorted(config)
    assert not (config.get("nesterov") is True and config["layers"] == 4), config
    assert not (config["opt"] == "rmsprop" and config["layers"] in (1, 2)), config
    assert type(config["layers"]) is int and type(config["steps"]) is int, config
    assert isinstance(config["lr"], float) and 0.0 <= config["dropout"] <= 0.5, config
    if "momentum" in config:
        assert abs(config["momentum"] * 10 - round(config["momentum"] * 10)) < 1e-9, config
    if "units3" in config:
        assert config["units3"] % 8 == 0, config
    score = -(math.log10(config["lr"]) + 2) ** 2 - (config["dropout"] - 0.2) ** 2
    score -= {"adam": 0.5, "sgd": 0.0, "rmsprop": 0.3}[config["opt"]]
    score -= abs(config.get("momentum", 0.0) - 0.9) + (0.2 if config.get("nesterov") else 0.0)
    score -= abs(config["layers"] - 3) * 0.3
    score -= abs(math.log2(config.get("units2", 64)) - 6) / 4 + abs(math.log2(config.get("units3", 64)) - 6) / 4
    score -= 0.0 if config.get("act3") == "relu" else 0.2
    score -= abs(config.get("slope", 0.1) - 0.1)
    return score
