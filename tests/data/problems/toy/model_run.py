"""run() per mode: ok -> x; raise -> ZeroDivisionError; nan -> NaN; sleep -> sleeps 'sleep' s;
exit -> os._exit(1); kill -> SIGKILL itself; checkpoint -> counts calls in trial.checkpoint_dir."""
import math
import os
import signal
import time

from toy_helper import double


def run(config, trial=None):
    mode = config["mode"]
    if mode == "raise":
        return 1 / 0
    if mode == "nan":
        return math.nan
    if mode == "sleep":
        time.sleep(config["sleep"])
    if mode == "exit":
        os._exit(1)
    if mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "checkpoint":
        f = trial.checkpoint_dir / "count.txt"
        n = int(f.read_text()) + 1 if f.exists() else 1
        f.write_text(str(n))
        return {"objective": float(n), "pid": os.getpid()}
    return {"objective": double(config["x"]) / 2, "pid": os.getpid()}
