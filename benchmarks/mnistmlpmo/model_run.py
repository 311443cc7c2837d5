"""The mnistmlp folder's training (../mnistmlp/model_run.py, run here), plus the number of parameters."""
from pathlib import Path

_SOURCE = Path(__file__).resolve().parent.parent / "mnistmlp" / "model_run.py"
exec(compile(_SOURCE.read_text(encoding="utf-8"), str(_SOURCE), "exec"))  # noqa: S102 - our own file

_train = run  # noqa: F821 - defined by mnistmlp's model_run.py above


def n_params(config: dict) -> int:
    """Trainable weights and biases of the network: 784 inputs, two hidden layers, 10 outputs."""
    u1, u2 = int(config["units1"]), int(config["units2"])
    return 785 * u1 + (u1 + 1) * u2 + 10 * (u2 + 1)


def run(config: dict, trial=None) -> dict:  # noqa: F811 - mnistmlp's run, with the second objective
    """mnistmlp's ``run``, with ``n_params`` in the returned dict."""
    out = _train(config, trial)
    out["n_params"] = n_params(config)
    return out
