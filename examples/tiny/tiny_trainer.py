#!/usr/bin/env python3
"""The tiny trainer: a small neural network that learns a 1-D wave, in the Python standard library.

It follows the Syllabus job contract (docs/job-contract.md) the way a real trainer would: it reads
the SYLLABUS_* environment and a JSON config, starts from the input model (and from the input
optimizer state when that is carried), resumes from the latest complete checkpoint in its output
folder, writes checkpoint-<step>/ folders (model.json, optimizer.json, then trainer_state.json,
atomically), prints Hugging Face Trainer style log dicts and a tqdm-style step counter, and on
SIGTERM or SIGINT saves a checkpoint and exits 0.

The task: regress y = f(x) with an MLP (1 input -> `hidden` tanh units -> 1 output), mean squared
error, Adam (or plain SGD). Datasets are synthetic and named (synthetic:waves-easy, -medium,
-hard); held-out loss is always measured on one fixed, noiseless set of `eval_dataset` (the hard
task by default), so it is comparable across the phases of a curriculum.

Runs on Python 3.8+, standard library only. See README.md for the contract and the config keys.

Exit codes: 0 done, stopped or already complete; 1 a crash (or training diverged); 2 bad
environment, config or input checkpoint; 3 FAIL_AT_STEP reached (a test hook).
"""

import json
import math
import os
import random
import re
import shutil
import signal
import sys
import time
from operator import mul

PREFIX = "syllabus-tiny: "
EXIT_BAD_INPUT = 2
EXIT_FAIL_AT_STEP = 3

# name: (x range: x is uniform in [-r, r], [(amplitude, frequency), ...]): y = sum a * sin(f * x)
DATASETS = {
    "synthetic:waves-easy": (1.0, ((1.0, 1.0),)),
    "synthetic:waves-medium": (2.0, ((1.0, 1.0), (0.5, 2.0))),
    "synthetic:waves-hard": (3.0, ((1.0, 1.0), (0.5, 2.0), (0.25, 3.0))),
}

DEFAULTS = {
    "learning_rate": 0.01,
    "optimizer": "adam",
    "hidden": 32,
    "batch_size": 32,
    "seed": 0,
    "datasets": [{"path": "synthetic:waves-hard"}],
    "noise": 0.02,
    "eval_dataset": "synthetic:waves-hard",
    "eval_size": 256,
    "logging_steps": 50,
    "eval_steps": 250,
    "save_steps": 250,
    "save_total_limit": 2,
    "step_pause_ms": 0,
}

ADAM_BETA1, ADAM_BETA2, ADAM_EPS = 0.9, 0.999, 1e-8
MODEL_FORMAT = "syllabus-tiny-mlp"
PARAM_ORDER = ["w1", "b1", "w2", "b2"]  # the order of the flat optimizer moment vectors
CHECKPOINT_NAME = re.compile(r"^checkpoint-(\d+)$")


class BadInput(Exception):
    """A problem with the environment, the config or an input checkpoint: exit 2, one clear line."""


def say(message):
    print(PREFIX + message, flush=True)


def complain(message):
    print(PREFIX + message, file=sys.stderr, flush=True)


# --- stop signals ------------------------------------------------------------------------------

STOP = {"signal": None}


def _on_stop_signal(signum, frame):
    STOP["signal"] = signum


def install_stop_handlers():
    signal.signal(signal.SIGTERM, _on_stop_signal)
    signal.signal(signal.SIGINT, _on_stop_signal)


# --- the task ------------------------------------------------------------------------------------


def wave(name):
    if not isinstance(name, str) or name not in DATASETS:
        raise BadInput("unknown dataset %r (known: %s)" % (name, ", ".join(sorted(DATASETS))))
    return DATASETS[name]


def target(terms, x):
    y = 0.0
    for amplitude, frequency in terms:
        y += amplitude * math.sin(frequency * x)
    return y


def batch_rng(seed, phase_index, step):
    """The random source of one training step: the same for the same (seed, phase, step), so a
    resumed run sees exactly the batches an unbroken one would. (A str seed is hashed with
    SHA-512 by random.Random, independently of PYTHONHASHSEED.)"""
    return random.Random("batch:%d:%d:%d" % (seed, phase_index, step))


def sample_batch(rng, waves, size, noise):
    """`size` points from the mixture: each picks one of the datasets uniformly, then x."""
    xs, ys = [], []
    count = len(waves)
    for _ in range(size):
        x_range, terms = waves[rng.randrange(count)] if count > 1 else waves[0]
        x = rng.uniform(-x_range, x_range)
        xs.append(x)
        ys.append(target(terms, x) + (rng.gauss(0.0, noise) if noise > 0 else 0.0))
    return xs, ys


def eval_set(name, size):
    """The held-out set: fixed for a dataset name and size (not the config seed, not the phase)
    and noiseless, so eval losses are comparable across phases and runs."""
    x_range, terms = wave(name)
    rng = random.Random("eval:" + name)
    xs = [rng.uniform(-x_range, x_range) for _ in range(size)]
    return xs, [target(terms, x) for x in xs]


# --- the model: 1 -> hidden tanh -> 1, vectorised by hand over the batch --------------------------


def init_model(hidden, seed):
    """Input weights ~ N(0, 2) and biases ~ U(-3, 3) spread the tanh kinks over [-3, 3], the
    widest input range; output weights ~ N(0, 0.1/sqrt(hidden)) start the output near 0, so the
    first held-out loss is about the variance of the target rather than init noise."""
    rng = random.Random("init:%d" % seed)
    return {
        "format": MODEL_FORMAT,
        "inputs": 1,
        "hidden": hidden,
        "activation": "tanh",
        "w1": [rng.gauss(0.0, 2.0) for _ in range(hidden)],
        "b1": [rng.uniform(-3.0, 3.0) for _ in range(hidden)],
        "w2": [rng.gauss(0.0, 0.1 / math.sqrt(hidden)) for _ in range(hidden)],
        "b2": 0.0,
    }


def predict(model, xs):
    tanh = math.tanh
    out = [model["b2"]] * len(xs)
    for a, c, w in zip(model["w1"], model["b1"], model["w2"]):
        out = [o + w * tanh(a * x + c) for o, x in zip(out, xs)]
    return out


def mse(model, xs, ys):
    err = [p - y for p, y in zip(predict(model, xs), ys)]
    return sum(map(mul, err, err)) / len(xs)


def loss_and_gradients(model, xs, ys):
    """Mean squared error over a batch and its gradients, as one flat list in PARAM_ORDER."""
    tanh = math.tanh
    n = len(xs)
    hs = []
    out = [model["b2"]] * n
    for a, c, w in zip(model["w1"], model["b1"], model["w2"]):
        h = [tanh(a * x + c) for x in xs]
        hs.append(h)
        out = [o + w * v for o, v in zip(out, h)]
    err = [o - y for o, y in zip(out, ys)]
    loss = sum(map(mul, err, err)) / n
    scale = 2.0 / n
    d = [scale * e for e in err]  # dLoss/dout
    g_w1, g_b1, g_w2 = [], [], []
    for w, h in zip(model["w2"], hs):
        g_w2.append(sum(map(mul, d, h)))
        q = [dd * (1.0 - v * v) for dd, v in zip(d, h)]  # dLoss/dz, divided by w
        g_b1.append(w * sum(q))
        g_w1.append(w * sum(map(mul, q, xs)))
    return loss, g_w1 + g_b1 + g_w2 + [sum(d)]


def flat(model):
    return model["w1"] + model["b1"] + model["w2"] + [model["b2"]]


def set_flat(model, params):
    n = model["hidden"]
    model["w1"] = params[:n]
    model["b1"] = params[n:2 * n]
    model["w2"] = params[2 * n:3 * n]
    model["b2"] = params[3 * n]


def parameter_count(hidden):
    return 3 * hidden + 1


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_model(model, where):
    if not isinstance(model, dict):
        raise BadInput("%s: model.json is not a JSON object" % where)
    hidden = model.get("hidden")
    if not isinstance(hidden, int) or isinstance(hidden, bool) or hidden < 1:
        raise BadInput("%s: model.json has no valid 'hidden' size" % where)
    for key in ("w1", "b1", "w2"):
        values = model.get(key)
        if not isinstance(values, list) or len(values) != hidden or not all(map(is_number, values)):
            raise BadInput("%s: model.json '%s' is not %d numbers" % (where, key, hidden))
    if not is_number(model.get("b2")):
        raise BadInput("%s: model.json 'b2' is not a number" % where)
    for key in ("w1", "b1", "w2"):
        model[key] = [float(v) for v in model[key]]
    model["b2"] = float(model["b2"])
    return model


# --- the optimizer -------------------------------------------------------------------------------


def fresh_optimizer(name, size):
    return {"name": name, "t": 0, "m": [0.0] * size, "v": [0.0] * size}


def check_optimizer(opt, size, where):
    if not isinstance(opt, dict):
        raise BadInput("%s: optimizer.json is not a JSON object" % where)
    t = opt.get("t", 0)
    if not isinstance(t, int) or isinstance(t, bool) or t < 0:
        raise BadInput("%s: optimizer.json has no valid step count 't'" % where)
    for key in ("m", "v"):
        values = opt.get(key)
        if values is None:
            opt[key] = [0.0] * size
        elif not isinstance(values, list) or len(values) != size or not all(map(is_number, values)):
            raise BadInput("%s: optimizer.json '%s' does not fit the model (%d parameters)"
                           % (where, key, size))
        else:
            opt[key] = [float(v) for v in values]
    opt["t"] = t
    return opt


def optimizer_update(opt, params, grads, lr):
    """One step of Adam (bias-corrected, with its moments m, v and step count t) or plain SGD.
    SGD has no moments: it leaves m and v as they are and only counts t."""
    opt["t"] += 1
    if opt["name"] == "sgd":
        return [p - lr * g for p, g in zip(params, grads)]
    t = opt["t"]
    b1, b2 = ADAM_BETA1, ADAM_BETA2
    m = [b1 * mi + (1.0 - b1) * g for mi, g in zip(opt["m"], grads)]
    v = [b2 * vi + (1.0 - b2) * g * g for vi, g in zip(opt["v"], grads)]
    opt["m"], opt["v"] = m, v
    c1 = 1.0 - b1 ** t
    c2 = 1.0 - b2 ** t
    sqrt = math.sqrt
    return [p - lr * (mi / c1) / (sqrt(vi / c2) + ADAM_EPS) for p, mi, vi in zip(params, m, v)]


def optimizer_json(opt):
    return {
        "name": opt["name"],
        "t": opt["t"],
        "beta1": ADAM_BETA1,
        "beta2": ADAM_BETA2,
        "eps": ADAM_EPS,
        "param_order": PARAM_ORDER,
        "m": opt["m"],
        "v": opt["v"],
    }


# --- checkpoints ---------------------------------------------------------------------------------


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_json(path, value, indent=None):
    with open(path, "w") as f:
        json.dump(value, f, indent=indent, allow_nan=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_complete(path):
    """The trainer_state of a complete checkpoint folder, or None when it is not complete."""
    try:
        state = read_json(os.path.join(path, "trainer_state.json"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not os.path.isfile(os.path.join(path, "model.json")):
        return None
    return state


def complete_checkpoints(output_dir):
    """(step, path) of every complete checkpoint-<N> folder, oldest first. Folders without a
    readable trainer_state.json and temp folders (checkpoint-<N>.tmp-<pid>) are left out."""
    found = []
    try:
        entries = os.listdir(output_dir)
    except OSError:
        return found
    for entry in entries:
        match = CHECKPOINT_NAME.match(entry)
        path = os.path.join(output_dir, entry)
        if match and os.path.isdir(path) and read_complete(path) is not None:
            found.append((int(match.group(1)), path))
    return sorted(found)


def save_checkpoint(output_dir, step, model, opt, state, limit):
    """Writes checkpoint-<step> atomically (into a temp folder, trainer_state.json last, then one
    rename), then removes the oldest complete checkpoints beyond `limit` (never the newest).
    Returns True if written, False if a complete checkpoint-<step> was already there."""
    final = os.path.join(output_dir, "checkpoint-%d" % step)
    if read_complete(final) is not None:
        return False
    temp = "%s.tmp-%d" % (final, os.getpid())
    if os.path.exists(temp):
        shutil.rmtree(temp)
    os.makedirs(temp)
    write_json(os.path.join(temp, "model.json"), model)
    write_json(os.path.join(temp, "optimizer.json"), optimizer_json(opt))
    write_json(os.path.join(temp, "trainer_state.json"), state, indent=2)  # last: marks it complete
    fsync_dir(temp)
    if os.path.isdir(final) and read_complete(final) is None:
        shutil.rmtree(final)  # an incomplete leftover of an earlier attempt: replace it
    try:
        os.rename(temp, final)
    except OSError:
        shutil.rmtree(temp, ignore_errors=True)
        if read_complete(final) is not None:
            return False  # someone saved this step meanwhile: keep theirs
        raise
    fsync_dir(output_dir)
    if limit is not None and limit > 0:
        for _, old in complete_checkpoints(output_dir)[:-limit]:
            shutil.rmtree(old, ignore_errors=True)
    return True


# --- environment and config ----------------------------------------------------------------------


def int_env(env, name, minimum=None):
    raw = env.get(name, "").strip()
    try:
        value = int(raw)
    except ValueError:
        raise BadInput("%s must be a whole number, got %r" % (name, raw))
    if minimum is not None and value < minimum:
        raise BadInput("%s must be at least %d, got %d" % (name, minimum, value))
    return value


def read_environment(env):
    required = ["SYLLABUS_RUN_ID", "SYLLABUS_PHASE", "SYLLABUS_PHASE_INDEX", "SYLLABUS_STEP_START",
                "SYLLABUS_STEP_END", "SYLLABUS_TOTAL_STEPS", "SYLLABUS_OUTPUT_DIR", "SYLLABUS_CONFIG"]
    missing = [name for name in required if not env.get(name, "").strip()]
    if missing:
        raise BadInput("missing environment: " + ", ".join(missing))
    start = int_env(env, "SYLLABUS_STEP_START", 0)
    end = int_env(env, "SYLLABUS_STEP_END", 0)
    total = int_env(env, "SYLLABUS_TOTAL_STEPS", 1)
    if end <= start:
        raise BadInput("SYLLABUS_STEP_END (%d) must be greater than SYLLABUS_STEP_START (%d)"
                       % (end, start))
    if end > total:  # odd, but the phase's own range is what it trains: say so and go on
        say("warning: SYLLABUS_STEP_END (%d) is beyond SYLLABUS_TOTAL_STEPS (%d)" % (end, total))
    fail_at = None
    if env.get("FAIL_AT_STEP", "").strip():
        fail_at = int_env(env, "FAIL_AT_STEP", 0)
    return {
        "run_id": env["SYLLABUS_RUN_ID"],
        "phase": env["SYLLABUS_PHASE"],
        "phase_index": int_env(env, "SYLLABUS_PHASE_INDEX", 0),
        "step_start": start,
        "step_end": end,
        "total_steps": total,
        "input_model": env.get("SYLLABUS_INPUT_MODEL", "").strip(),
        "input_optimizer": env.get("SYLLABUS_INPUT_OPTIMIZER", "").strip(),
        "output_dir": env["SYLLABUS_OUTPUT_DIR"],
        "config": env["SYLLABUS_CONFIG"],
        "fail_at": fail_at,
    }


def _number(key, value, minimum, integer, allow_equal=True):
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise BadInput("config %s must be a number, got %r" % (key, value))
    if not is_number(value):
        raise BadInput("config %s must be a number, got %r" % (key, value))
    if integer:
        if float(value) != int(value):
            raise BadInput("config %s must be a whole number, got %r" % (key, value))
        value = int(value)
    else:
        value = float(value)
    if minimum is not None and (value < minimum or (value == minimum and not allow_equal)):
        raise BadInput("config %s must be %s %s, got %r"
                       % (key, "at least" if allow_equal else "greater than", minimum, value))
    return value


def read_config(path):
    try:
        given = read_json(path)
    except (OSError, ValueError) as e:
        raise BadInput("cannot read config %s: %s" % (path, e))
    if not isinstance(given, dict):
        raise BadInput("config %s must be a JSON object" % path)
    config = dict(DEFAULTS)
    config.update({k: v for k, v in given.items() if v is not None or k == "save_total_limit"})
    config["hidden_given"] = "hidden" in given and given["hidden"] is not None

    config["learning_rate"] = _number("learning_rate", config["learning_rate"], 0, False, False)
    name = config["optimizer"]
    if not isinstance(name, str) or name.strip().lower() not in ("adam", "sgd"):
        raise BadInput("config optimizer must be adam or sgd, got %r" % (name,))
    config["optimizer"] = name.strip().lower()
    for key in ("hidden", "batch_size", "eval_size", "logging_steps", "eval_steps", "save_steps"):
        config[key] = _number(key, config[key], 1, True)
    config["seed"] = _number("seed", config["seed"], None, True)
    config["noise"] = _number("noise", config["noise"], 0, False)
    config["step_pause_ms"] = _number("step_pause_ms", config["step_pause_ms"], 0, False)
    if config["save_total_limit"] is not None:
        config["save_total_limit"] = _number("save_total_limit", config["save_total_limit"], None, True)

    datasets = config["datasets"]
    if not isinstance(datasets, list) or not datasets:
        raise BadInput("config datasets must be a non-empty list of {\"path\": ...}")
    paths = []
    for entry in datasets:
        path = entry.get("path") if isinstance(entry, dict) else entry
        wave(path)  # unknown names: BadInput naming the known ones
        paths.append(path)
    config["dataset_paths"] = paths
    wave(config["eval_dataset"])
    return config


# --- progress lines ------------------------------------------------------------------------------


def fmt_float(value):
    """repr() of a float as a Python dict would show it (HF's log dict lines), never 'nan'."""
    return repr(float(value))


def log_line(entry):
    return "{" + ", ".join("'%s': %s" % (k, fmt_float(v) if isinstance(v, float) else repr(v))
                           for k, v in entry.items()) + "}"


def clock(seconds):
    seconds = int(seconds)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return "%d:%02d:%02d" % (hours, minutes, seconds)
    return "%02d:%02d" % (minutes, seconds)


def tqdm_line(step, total, elapsed, done_here):
    """Like tqdm's ascii bar: ' 40%|####      | 400/1000 [00:04<00:06, 95.12it/s]'."""
    filled = int(10 * step / total)
    bar = "#" * filled + " " * (10 - filled)
    if done_here > 0 and elapsed > 0:
        rate = done_here / elapsed
        tail = "%s<%s, %.2fit/s" % (clock(elapsed), clock((total - step) / rate), rate)
    else:
        tail = "%s<?, ?it/s" % clock(elapsed)
    return "%3d%%|%s| %d/%d [%s]" % (100 * step // total, bar, step, total, tail)


# --- the run -------------------------------------------------------------------------------------


def new_origin(env, loaded_opt):
    """The "syllabus" block of trainer_state.json: where this phase started from."""
    return {
        "run_id": env["run_id"],
        "phase": env["phase"],
        "phase_index": env["phase_index"],
        "step_start": env["step_start"],
        "step_end": env["step_end"],
        "total_steps": env["total_steps"],
        "input_model": env["input_model"],
        "input_optimizer": env["input_optimizer"],
        "optimizer_loaded": loaded_opt is not None,
        "optimizer_t_at_load": loaded_opt["t"] if loaded_opt is not None else 0,
        "resumed_from": "",
        "best_eval_loss": None,
    }


def load_start(env, config, max_steps):
    """Where this run starts: the latest complete checkpoint of the output folder, else the input
    model / optimizer state, else fresh. Returns a dict, or None if the phase is already done."""
    checkpoints = complete_checkpoints(env["output_dir"])
    if checkpoints:
        step, path = checkpoints[-1]
        state = read_complete(path)
        try:
            model = check_model(read_json(os.path.join(path, "model.json")), path)
            opt = read_json(os.path.join(path, "optimizer.json"))
        except (OSError, ValueError) as e:
            raise BadInput("cannot read checkpoint %s: %s" % (path, e))
        opt = check_optimizer(opt, parameter_count(model["hidden"]), path)
        opt["name"] = config["optimizer"]
        if step >= max_steps:
            say("phase %s is already complete (%s, step %d/%d); nothing to do"
                % (env["phase"], path, step, max_steps))
            return None
        origin = new_origin(env, None)
        origin.update(state.get("syllabus") or {})  # the checkpoint's account of the phase wins
        origin["resumed_from"] = path
        tiny = state.get("tiny") or {}
        say("resumed from %s at step %d/%d" % (path, step, max_steps))
        return {
            "step": step,
            "resumed": True,
            "model": model,
            "opt": opt,
            "history": list(state.get("log_history") or []),
            "origin": origin,
            "loss_sum": float(tiny.get("loss_sum", 0.0)),
            "loss_steps": int(tiny.get("loss_steps", 0)),
        }

    if env["input_model"]:
        where = env["input_model"]
        try:
            model = read_json(os.path.join(where, "model.json"))
        except (OSError, ValueError) as e:
            raise BadInput("cannot read the input model %s: %s" % (where, e))
        model = check_model(model, where)
        if config["hidden_given"] and model["hidden"] != config["hidden"]:
            raise BadInput("the input model %s has hidden=%d but the config asks for hidden=%d"
                           % (where, model["hidden"], config["hidden"]))
        model_from = "model from " + where
    else:
        model = init_model(config["hidden"], config["seed"])
        model_from = "fresh model (hidden=%d, seed %d)" % (config["hidden"], config["seed"])
    size = parameter_count(model["hidden"])
    if env["input_optimizer"]:
        where = env["input_optimizer"]
        try:
            opt = read_json(os.path.join(where, "optimizer.json"))
        except (OSError, ValueError) as e:
            raise BadInput("cannot read the input optimizer state %s: %s" % (where, e))
        opt = check_optimizer(opt, size, where)
        loaded_name = opt.get("name", "?")
        opt["name"] = config["optimizer"]
        optimizer_from = "optimizer state from %s (%s t=%d)" % (where, loaded_name, opt["t"])
        if loaded_name != config["optimizer"]:
            optimizer_from += ", used by %s" % config["optimizer"]
    else:
        opt = fresh_optimizer(config["optimizer"], size)
        optimizer_from = "optimizer state reset"
    say("%s; %s" % (model_from, optimizer_from))
    return {
        "step": 0,
        "resumed": False,
        "model": model,
        "opt": opt,
        "history": [],
        "origin": new_origin(env, opt if env["input_optimizer"] else None),
        "loss_sum": 0.0,
        "loss_steps": 0,
    }


class Diverged(Exception):
    pass


def lock_output_dir(output_dir):
    """Two trainers writing one output dir would corrupt each other's checkpoints: the second
    one to start refuses to (exit 2). The lock goes with the process, however it ends."""
    try:
        import fcntl
    except ImportError:  # not a Unix: no lock, as before
        return None
    path = os.path.join(output_dir, ".trainer.lock")
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise BadInput("another trainer (%s) is writing to %s; refusing to start a second one"
                       % (holder, output_dir))
    handle.seek(0)
    handle.truncate()
    handle.write("pid %d\n" % os.getpid())
    handle.flush()
    return handle


def train(env, config):
    max_steps = env["step_end"] - env["step_start"]
    output_dir = env["output_dir"]
    try:
        os.makedirs(output_dir, exist_ok=True)
    except OSError as e:
        raise BadInput("cannot create SYLLABUS_OUTPUT_DIR %s: %s" % (output_dir, e))
    start = load_start(env, config, max_steps)
    if start is None:
        return 0
    lock = lock_output_dir(output_dir)  # held until the process exits
    step = start["step"]
    model, opt, history, origin = start["model"], start["opt"], start["history"], start["origin"]
    loss_sum, loss_steps = start["loss_sum"], start["loss_steps"]

    say("phase %s (index %d): global steps [%d, %d) of %d, %d steps on %s; %s lr=%g; eval on %s"
        % (env["phase"], env["phase_index"], env["step_start"], env["step_end"], env["total_steps"],
           max_steps, ", ".join(config["dataset_paths"]), config["optimizer"],
           config["learning_rate"], config["eval_dataset"]))

    waves = [wave(p) for p in config["dataset_paths"]]
    eval_xs, eval_ys = eval_set(config["eval_dataset"], config["eval_size"])
    lr = config["learning_rate"]
    batch_size = config["batch_size"]
    noise = config["noise"]
    seed = config["seed"]
    pause = config["step_pause_ms"] / 1000.0
    logging_steps, eval_steps, save_steps = (
        config["logging_steps"], config["eval_steps"], config["save_steps"])
    limit = config["save_total_limit"]
    fail_at = env["fail_at"]
    phase_index = env["phase_index"]

    def trainer_state(at):
        return {
            "global_step": at,
            "max_steps": max_steps,
            "epoch": at / max_steps,
            "logging_steps": logging_steps,
            "eval_steps": eval_steps,
            "save_steps": save_steps,
            "train_batch_size": batch_size,
            "log_history": history,
            "syllabus": origin,
            # what a resumed run needs to print the same log lines as an unbroken one
            "tiny": {"loss_sum": loss_sum, "loss_steps": loss_steps},
        }

    def log(entry):
        history.append(entry)
        print(log_line(entry), flush=True)

    def evaluate(at):
        loss = mse(model, eval_xs, eval_ys)
        if not math.isfinite(loss):
            raise Diverged("eval_loss=%r at step %d" % (loss, at))
        loss = round(loss, 6)
        best = origin.get("best_eval_loss")
        origin["best_eval_loss"] = loss if best is None else min(best, loss)
        log({"eval_loss": loss, "epoch": round(at / max_steps, 4), "step": at})
        return loss

    def save(at):
        return save_checkpoint(output_dir, at, model, opt, trainer_state(at), limit)

    def failing(at):
        if fail_at is not None and at >= fail_at:
            complain("FAIL_AT_STEP=%d reached; failing on purpose" % fail_at)
            return True
        return False

    first_step = step
    started = time.time()
    if not start["resumed"]:
        evaluate(0)
    print(tqdm_line(step, max_steps, 0.0, 0), flush=True)
    if failing(step):
        return EXIT_FAIL_AT_STEP

    while step < max_steps:
        if STOP["signal"] is not None:
            if step == first_step and not start["resumed"]:
                say("stopped at step %d/%d before training began; nothing to save"
                    % (step, max_steps))
            else:
                save(step)
                say("stopped at step %d/%d, checkpoint saved" % (step, max_steps))
            return 0

        xs, ys = sample_batch(batch_rng(seed, phase_index, step), waves, batch_size, noise)
        loss, grads = loss_and_gradients(model, xs, ys)
        if not math.isfinite(loss):
            raise Diverged("loss=%r at step %d" % (loss, step))
        set_flat(model, optimizer_update(opt, flat(model), grads, lr))
        loss_sum += loss
        loss_steps += 1
        step += 1

        if step % logging_steps == 0 or (step == max_steps and loss_steps):
            log({"loss": round(loss_sum / loss_steps, 4), "learning_rate": lr,
                 "epoch": round(step / max_steps, 4), "step": step})
            loss_sum, loss_steps = 0.0, 0
            print(tqdm_line(step, max_steps, time.time() - started, step - first_step), flush=True)
        if step % eval_steps == 0 or step == max_steps:
            evaluate(step)
        if failing(step):
            return EXIT_FAIL_AT_STEP
        if step % save_steps == 0 or step == max_steps:
            save(step)
        if pause > 0 and step < max_steps:
            time.sleep(pause)

    evals = [h["eval_loss"] for h in history if "eval_loss" in h]
    elapsed = time.time() - started
    done_here = max_steps - first_step
    say("done, %d steps, eval_loss=%s (%d steps in %.1fs here, %.3f ms/step)"
        % (max_steps, evals[-1] if evals else "?", done_here, elapsed,
           1000.0 * elapsed / done_here if done_here else 0.0))
    return 0


def main():
    install_stop_handlers()
    try:
        env = read_environment(os.environ)
        config = read_config(env["config"])
        if STOP["signal"] is not None:
            say("stopped before training began; nothing to save")
            return 0
        return train(env, config)
    except BadInput as e:
        complain(str(e))
        return EXIT_BAD_INPUT
    except Diverged as e:
        complain("training diverged (%s); try a lower learning_rate" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
