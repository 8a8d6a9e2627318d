#!/usr/bin/env python3
"""The tiny trainer: a small neural network that learns a 1-D wave, in the Python standard library.

It follows the Syllabus job contract (docs/job-contract.md) the way a real trainer would:
reads its config and the SYLLABUS_* environment, starts from the input model (and optimizer
state when carried), resumes from the latest complete checkpoint in its output folder, writes
checkpoint-<step>/ folders (model.json, optimizer.json, trainer_state.json last), prints
Hugging Face style log dicts and a tqdm-style step counter, and on SIGTERM saves a checkpoint
and exits 0.

The task: regress y = f(x) with an MLP (1 -> hidden tanh units -> 1), mean squared error, Adam.
Datasets are synthetic and named (synthetic:waves-easy, -medium, -hard); held-out loss is always
measured on one fixed set (eval_dataset, by default the hard task), so it is comparable across
the phases of a curriculum.

Exit codes: 0 done or stopped, 2 bad environment or config, 3 FAIL_AT_STEP reached (a test hook),
anything else a crash.
"""

import json
import math
import os
import random
import shutil
import signal
import sys
import time

DATASETS = {
    # name: (x range, [(amplitude, frequency), ...])
    "synthetic:waves-easy": (1.0, [(1.0, 1.0)]),
    "synthetic:waves-medium": (2.0, [(1.0, 1.0), (0.5, 2.0)]),
    "synthetic:waves-hard": (3.0, [(1.0, 1.0), (0.5, 2.0), (0.25, 3.0)]),
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

BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-8


class BadInput(Exception):
    """A problem with the environment or the config: exit 2 with one clear line."""


def say(message):
    print("syllabus-tiny: " + message, flush=True)


# --- the task --------------------------------------------------------------------------------


def wave(name):
    if name not in DATASETS:
        raise BadInput(
            "unknown dataset %r (known: %s)" % (name, ", ".join(sorted(DATASETS)))
        )
    return DATASETS[name]


def target(terms, x):
    return sum(a * math.sin(f * x) for a, f in terms)


def sample_batch(rng, waves, size, noise):
    xs, ys = [], []
    for _ in range(size):
        x_range, terms = waves[rng.randrange(len(waves))]
        x = rng.uniform(-x_range, x_range)
        xs.append(x)
        ys.append(target(terms, x) + rng.gauss(0.0, noise))
    return xs, ys


def eval_set(name, size):
    x_range, terms = wave(name)
    rng = random.Random("eval:" + name)
    xs = [rng.uniform(-x_range, x_range) for _ in range(size)]
    return xs, [target(terms, x) for x in xs]


# --- the model ---------------------------------------------------------------------------------


def init_model(hidden, seed):
    rng = random.Random("init:%d" % seed)
    return {
        "hidden": hidden,
        "w1": [rng.gauss(0.0, 1.5) for _ in range(hidden)],
        "b1": [rng.uniform(-3.0, 3.0) for _ in range(hidden)],
        "w2": [rng.gauss(0.0, 1.0 / math.sqrt(hidden)) for _ in range(hidden)],
        "b2": 0.0,
    }


def predict(model, xs):
    w1, b1, w2, b2 = model["w1"], model["b1"], model["w2"], model["b2"]
    tanh = math.tanh
    out = []
    for x in xs:
        y = b2
        for j in range(len(w1)):
            y += w2[j] * tanh(w1[j] * x + b1[j])
        out.append(y)
    return out


def mse(model, xs, ys):
    return sum((p - y) ** 2 for p, y in zip(predict(model, xs), ys)) / len(xs)


def gradients(model, xs, ys):
    """Loss and gradients of the mean squared error over one batch."""
    w1, b1, w2, b2 = model["w1"], model["b1"], model["w2"], model["b2"]
    n = len(w1)
    tanh = math.tanh
    g_w1 = [0.0] * n
    g_b1 = [0.0] * n
    g_w2 = [0.0] * n
    g_b2 = 0.0
    loss = 0.0
    scale = 2.0 / len(xs)
    for x, t in zip(xs, ys):
        h = [tanh(w1[j] * x + b1[j]) for j in range(n)]
        y = b2
        for j in range(n):
            y += w2[j] * h[j]
        err = y - t
        loss += err * err
        dy = scale * err
        g_b2 += dy
        for j in range(n):
            hj = h[j]
            g_w2[j] += dy * hj
            dz = dy * w2[j] * (1.0 - hj * hj)
            g_w1[j] += dz * x
            g_b1[j] += dz
    return loss / len(xs), g_w1 + g_b1 + g_w2 + [g_b2]


def flat(model):
    return model["w1"] + model["b1"] + model["w2"] + [model["b2"]]


def unflat(model, params):
    n = model["hidden"]
    model["w1"] = params[:n]
    model["b1"] = params[n : 2 * n]
    model["w2"] = params[2 * n : 3 * n]
    model["b2"] = params[3 * n]


# --- the optimizer ---------------------------------------------------------------------------


def fresh_optimizer(name, size):
    return {"name": name, "t": 0, "m": [0.0] * size, "v": [0.0] * size}


def apply_update(opt, params, grads, lr):
    if opt["name"] == "sgd":
        return [p - lr * g for p, g in zip(params, grads)]
    opt["t"] += 1
    t = opt["t"]
    m, v = opt["m"], opt["v"]
    c1 = 1.0 - BETA1 ** t
    c2 = 1.0 - BETA2 ** t
    out = []
    for i, (p, g) in enumerate(zip(params, grads)):
        m[i] = BETA1 * m[i] + (1.0 - BETA1) * g
        v[i] = BETA2 * v[i] + (1.0 - BETA2) * g * g
        out.append(p - lr * (m[i] / c1) / (math.sqrt(v[i] / c2) + EPSILON))
    return out


# --- checkpoints -------------------------------------------------------------------------------


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f)
        f.write("\n")


def complete_checkpoints(output_dir):
    """(step, path) of every complete checkpoint: one whose trainer_state.json is readable."""
    found = []
    if not os.path.isdir(output_dir):
        return found
    for entry in os.listdir(output_dir):
        if not entry.startswith("checkpoint-") or not entry[len("checkpoint-") :].isdigit():
            continue
        path = os.path.join(output_dir, entry)
        try:
            read_json(os.path.join(path, "trainer_state.json"))
        except (OSError, ValueError):
            continue
        found.append((int(entry[len("checkpoint-") :]), path))
    return sorted(found)


def save_checkpoint(output_dir, step, model, opt, state, limit):
    final = os.path.join(output_dir, "checkpoint-%d" % step)
    if os.path.isdir(final) and os.path.exists(os.path.join(final, "trainer_state.json")):
        return final
    temp = "%s.tmp-%d" % (final, os.getpid())
    os.makedirs(temp, exist_ok=True)
    write_json(os.path.join(temp, "model.json"), model)
    write_json(os.path.join(temp, "optimizer.json"), opt)
    write_json(os.path.join(temp, "trainer_state.json"), state)  # last: marks it complete
    try:
        os.rename(temp, final)
    except OSError:
        shutil.rmtree(temp, ignore_errors=True)
        return final
    for _, old in complete_checkpoints(output_dir)[:-limit] if limit > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return final


# --- the run -------------------------------------------------------------------------------------


def environment():
    env = os.environ
    names = ["SYLLABUS_RUN_ID", "SYLLABUS_PHASE", "SYLLABUS_PHASE_INDEX", "SYLLABUS_STEP_START",
             "SYLLABUS_STEP_END", "SYLLABUS_TOTAL_STEPS", "SYLLABUS_OUTPUT_DIR", "SYLLABUS_CONFIG"]
    missing = [n for n in names if not env.get(n)]
    if missing:
        raise BadInput("missing environment: " + ", ".join(missing))
    try:
        start, end = int(env["SYLLABUS_STEP_START"]), int(env["SYLLABUS_STEP_END"])
        index, total = int(env["SYLLABUS_PHASE_INDEX"]), int(env["SYLLABUS_TOTAL_STEPS"])
    except ValueError as e:
        raise BadInput("SYLLABUS_STEP_* and SYLLABUS_PHASE_INDEX must be whole numbers: %s" % e)
    if end <= start:
        raise BadInput("SYLLABUS_STEP_END %d must be greater than SYLLABUS_STEP_START %d" % (end, start))
    fail_at = env.get("FAIL_AT_STEP")
    return {
        "run_id": env["SYLLABUS_RUN_ID"],
        "phase": env["SYLLABUS_PHASE"],
        "phase_index": index,
        "step_start": start,
        "step_end": end,
        "total_steps": total,
        "input_model": env.get("SYLLABUS_INPUT_MODEL", ""),
        "input_optimizer": env.get("SYLLABUS_INPUT_OPTIMIZER", ""),
        "output_dir": env["SYLLABUS_OUTPUT_DIR"],
        "config": env["SYLLABUS_CONFIG"],
        "fail_at": int(fail_at) if fail_at else None,
    }


def load_config(path):
    try:
        given = read_json(path)
    except (OSError, ValueError) as e:
        raise BadInput("cannot read config %s: %s" % (path, e))
    if not isinstance(given, dict):
        raise BadInput("config %s must be a JSON object" % path)
    config = dict(DEFAULTS)
    config.update(given)
    if config["optimizer"] not in ("adam", "sgd"):
        raise BadInput("optimizer must be adam or sgd, got %r" % config["optimizer"])
    for entry in config["datasets"]:
        if not isinstance(entry, dict) or "path" not in entry:
            raise BadInput("every dataset needs a path, got %r" % (entry,))
        wave(entry["path"])
    wave(config["eval_dataset"])
    return config


def tqdm_line(step, total, started, first_step):
    elapsed = max(time.time() - started, 1e-9)
    rate = (step - first_step) / elapsed
    left = (total - step) / rate if rate > 0 else 0
    done = int(10 * step / total)

    def clock(seconds):
        return "%02d:%02d" % (int(seconds) // 60, int(seconds) % 60)

    return "%3d%%|%s| %d/%d [%s<%s, %.2fit/s]" % (
        100 * step // total, "#" * done + " " * (10 - done), step, total, clock(elapsed), clock(left), rate)


def train(env, config):
    max_steps = env["step_end"] - env["step_start"]
    output_dir = env["output_dir"]
    os.makedirs(output_dir, exist_ok=True)
    stop = {"asked": False}

    def on_stop(signum, frame):
        stop["asked"] = True

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)

    checkpoints = complete_checkpoints(output_dir)
    if checkpoints:
        step, path = checkpoints[-1]
        model = read_json(os.path.join(path, "model.json"))
        opt = read_json(os.path.join(path, "optimizer.json"))
        state = read_json(os.path.join(path, "trainer_state.json"))
        origin = dict(state["syllabus"], resumed_from=path)
        history = state["log_history"]
        if step >= max_steps:
            say("phase %s is already complete (%s); nothing to do" % (env["phase"], path))
            return 0
        say("resumed from %s at step %d/%d" % (path, step, max_steps))
    else:
        step = 0
        history = []
        if env["input_model"]:
            model = read_json(os.path.join(env["input_model"], "model.json"))
            model_from = "model from " + env["input_model"]
        else:
            model = init_model(int(config["hidden"]), int(config["seed"]))
            model_from = "fresh model (seed %d)" % int(config["seed"])
        size = 3 * model["hidden"] + 1
        if env["input_optimizer"]:
            opt = read_json(os.path.join(env["input_optimizer"], "optimizer.json"))
            if len(opt.get("m", [])) != size and opt.get("name") == "adam":
                raise BadInput("the carried optimizer state does not fit the model (%d parameters)" % size)
            opt["name"] = config["optimizer"]
            optimizer_from = "optimizer state from %s (%s t=%d)" % (env["input_optimizer"], opt["name"], opt.get("t", 0))
        else:
            opt = fresh_optimizer(config["optimizer"], size)
            optimizer_from = "optimizer state reset"
        origin = {
            "run_id": env["run_id"], "phase": env["phase"], "phase_index": env["phase_index"],
            "step_start": env["step_start"], "step_end": env["step_end"],
            "input_model": env["input_model"], "input_optimizer": env["input_optimizer"],
            "optimizer_loaded": bool(env["input_optimizer"]),
            "optimizer_t_at_load": int(opt.get("t", 0)) if env["input_optimizer"] else 0,
            "resumed_from": "", "best_eval_loss": None,
        }
        say("%s; %s" % (model_from, optimizer_from))

    say("phase %s (%d): steps [%d, %d) of %d, %d steps on %s" % (
        env["phase"], env["phase_index"], env["step_start"], env["step_end"], env["total_steps"], max_steps,
        ", ".join(d["path"] for d in config["datasets"])))

    waves = [wave(d["path"]) for d in config["datasets"]]
    eval_xs, eval_ys = eval_set(config["eval_dataset"], int(config["eval_size"]))
    lr = float(config["learning_rate"])
    batch = int(config["batch_size"])
    noise = float(config["noise"])
    pause = float(config["step_pause_ms"]) / 1000.0
    logging_steps = max(1, int(config["logging_steps"]))
    eval_steps = max(1, int(config["eval_steps"]))
    save_steps = max(1, int(config["save_steps"]))
    limit = int(config["save_total_limit"])
    first_step = step
    started = time.time()
    losses = []

    def state_now(at):
        return {"global_step": at, "max_steps": max_steps, "epoch": at / max_steps,
                "log_history": history, "syllabus": origin}

    def log(entry):
        history.append(entry)
        print(repr(entry), flush=True)

    def evaluate(at):
        loss = round(mse(model, eval_xs, eval_ys), 6)
        best = origin.get("best_eval_loss")
        origin["best_eval_loss"] = loss if best is None else min(best, loss)
        log({"eval_loss": loss, "epoch": round(at / max_steps, 4), "step": at})
        return loss

    if step == 0:
        evaluate(0)
    while step < max_steps:
        if stop["asked"]:
            if step > first_step or step > 0:
                save_checkpoint(output_dir, step, model, opt, state_now(step), limit)
            say("stopped at step %d/%d, checkpoint saved" % (step, max_steps))
            return 0
        if env["fail_at"] is not None and step >= env["fail_at"]:
            print("syllabus-tiny: FAIL_AT_STEP=%d reached; failing on purpose" % env["fail_at"],
                  file=sys.stderr, flush=True)
            return 3
        rng = random.Random("batch:%s:%d:%d" % (config["seed"], env["phase_index"], step))
        xs, ys = sample_batch(rng, waves, batch, noise)
        loss, grads = gradients(model, xs, ys)
        unflat(model, apply_update(opt, flat(model), grads, lr))
        losses.append(loss)
        step += 1
        if step % logging_steps == 0 or step == max_steps:
            log({"loss": round(sum(losses) / len(losses), 6), "learning_rate": lr,
                 "epoch": round(step / max_steps, 4), "step": step})
            losses = []
            print(tqdm_line(step, max_steps, started, first_step), flush=True)
        if step % eval_steps == 0 or step == max_steps:
            evaluate(step)
        if step % save_steps == 0 or step == max_steps:
            save_checkpoint(output_dir, step, model, opt, state_now(step), limit)
        if pause > 0:
            time.sleep(pause)
    final = next((h["eval_loss"] for h in reversed(history) if "eval_loss" in h), None)
    say("done, %d steps, eval_loss=%s" % (max_steps, final))
    return 0


def main():
    try:
        env = environment()
        config = load_config(env["config"])
        return train(env, config)
    except BadInput as e:
        print("syllabus-tiny: " + str(e), file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
