#!/usr/bin/env python3
"""Stand-ins for the programs of images this machine cannot run (Axolotl, verifiers, vLLM, a
rewards server): what the testbed's player runs for such a container. Each prints what the real
program prints and writes what it writes, without the maths:

  standin.py trainer   a Hugging Face Trainer run with max_steps, as `accelerate launch` starts it:
                       reads the SYLLABUS_* job contract, resumes after the latest complete
                       checkpoint-N/ in SYLLABUS_OUTPUT_DIR, prints tqdm bars and log dicts, saves
                       checkpoint-N/ (model, optimizer, trainer_state.json last, then renamed), and
                       on SIGTERM saves checkpoint-<step> and exits 0.
  standin.py server    a vLLM or rewards server behind uvicorn: logs its start-up, prints
                       "Application startup complete." when it would answer its readiness probe,
                       and on SIGTERM shuts down and exits 0.

The node's speed comes from the player: STANDIN_STEP_SECONDS (one optimisation step),
STANDIN_SERVER_START_SECONDS (a server's start-up). Standard library only.

A test can make a trainer crash once, as a real one might (a CUDA error, a lost node): a file
named FAIL-ONCE in its output folder makes it train 30 steps past where it started, save a
checkpoint, remove the file, print a traceback and exit 1.

On several nodes (SYLLABUS_NUM_NODES > 1) each pod is one rank (SYLLABUS_NODE_RANK) and behaves as
a distributed trainer's launcher on that node: every rank resumes from the latest checkpoint and
trains, but only rank 0 (the main process) prints the bars and log dicts and writes checkpoints;
the other ranks print one line when they join, exit 0 at the end, and on SIGTERM exit 0 without
saving. FAIL-ONCE holding "rank N" makes rank N crash (without saving); an empty one, rank 0.
Before training, the ranks wait for each other, as torchrun's static rendezvous does: each keeps a
file .rendezvous/rank-N in the output folder fresh while it lives, and all are fresh at once when
every rank has joined (so a rank whose pod waits for a node holds the others back).
"""

import json
import math
import os
import re
import shutil
import signal
import sys
import time

RENDEZVOUS_FRESH_SECONDS = 3.0
STEP_SECONDS = float(os.environ.get("STANDIN_STEP_SECONDS", "0.05"))
SERVER_START_SECONDS = float(os.environ.get("STANDIN_SERVER_START_SECONDS", "1"))
LOG_EVERY, EVAL_EVERY, SAVE_EVERY = 10, 50, 20
LEARNING_RATE = 2e-05

stop_requested = False


def on_sigterm(signum, frame):
    global stop_requested
    stop_requested = True


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def loss(global_step):
    """A falling loss of the global step, with a little wobble."""
    return 0.35 + 2.2 * math.exp(-global_step / 80.0) * (1 + 0.05 * math.sin(global_step * 1.7))


class Trainer:
    def __init__(self, env):
        for name in ("SYLLABUS_STEP_START", "SYLLABUS_STEP_END", "SYLLABUS_OUTPUT_DIR"):
            if not env.get(name, "").strip():
                self.crash("KeyError: '%s'" % name)
        self.start = int(env["SYLLABUS_STEP_START"])
        self.total = int(env["SYLLABUS_STEP_END"]) - self.start
        if self.total <= 0:
            self.crash("ValueError: max_steps must be positive, got %d" % self.total)
        for name in ("SYLLABUS_INPUT_MODEL", "SYLLABUS_INPUT_OPTIMIZER"):
            path = env.get(name, "")
            if path.startswith("/") and not os.path.isdir(path):
                self.crash(
                    "OSError: Can't load the checkpoint at '%s'. Make sure that it is a directory"
                    " holding a saved model." % path
                )
        self.env = env
        self.nodes = int(env.get("SYLLABUS_NUM_NODES") or "1")
        self.rank = int(env.get("SYLLABUS_NODE_RANK") or "0")
        self.main = self.rank == 0
        self.output = env["SYLLABUS_OUTPUT_DIR"].rstrip("/")
        os.makedirs(self.output, exist_ok=True)
        self.history = []
        self.step = self.latest_checkpoint()
        self.first_step = self.step
        self.bar = ""
        self.started = time.monotonic()
        self.since_log = []
        self.dicts = 0

    @staticmethod
    def crash(error, code=1):
        say("Traceback (most recent call last):")
        say('  File "/app/train.py", line 87, in <module>')
        say("    main()")
        say(error)
        sys.exit(code)

    def latest_checkpoint(self):
        latest, state = 0, None
        for name in os.listdir(self.output):
            m = re.fullmatch(r"checkpoint-(\d+)", name)
            path = os.path.join(self.output, name, "trainer_state.json")
            if m and int(m.group(1)) > latest and os.path.isfile(path):
                try:
                    with open(path) as f:
                        state = json.load(f)
                except ValueError:
                    continue
                latest = int(m.group(1))
        if state:
            self.history = state.get("log_history", [])
        return latest

    def run(self):
        if self.nodes > 1:
            self.rendezvous()
            self.step = self.first_step = self.latest_checkpoint()
        if not self.main:
            self.run_other_rank()
        env = self.env
        say(
            "[INFO|trainer.py] phase %s of run %s: global steps %d..%d, model %s"
            % (
                env.get("SYLLABUS_PHASE", "?"),
                env.get("SYLLABUS_RUN_ID", "?"),
                self.start,
                self.start + self.total,
                env.get("SYLLABUS_INPUT_MODEL") or "(none)",
            )
        )
        say("***** Running training *****")
        say("  Num examples = {:,}".format(self.total * 8))
        say("  Num Epochs = 1")
        say("  Instantaneous batch size per device = 8")
        say("  Total optimization steps = {:,}".format(self.total))
        if self.step > 0:
            say("  Continuing training from checkpoint, will skip to saved global_step")
            say("  Continuing training from global step %d" % self.step)
        if self.step >= self.total:
            say("Training already complete at step %d of %d" % (self.step, self.total))
            self.finish()
        self.redraw()
        while True:
            time.sleep(STEP_SECONDS)
            if stop_requested:
                sys.stdout.write("\n")
                say(
                    "[INFO|trainer.py] received SIGTERM at step %d: saving checkpoint-%d and exiting"
                    % (self.step, self.step)
                )
                self.save(self.step)
                sys.exit(0)
            self.step += 1
            self.touch()
            self.fail_once()
            self.since_log.append(loss(self.start + self.step))
            self.redraw()
            if self.step % LOG_EVERY == 0 or self.step == self.total:
                self.log_dict()
            if self.step % EVAL_EVERY == 0:
                self.write(
                    str(
                        {
                            "eval_loss": loss(self.start + self.step) * 1.04 + 0.0123456789,
                            "eval_runtime": 0.5123,
                            "eval_samples_per_second": 195.2,
                            "eval_steps_per_second": 24.4,
                            "epoch": self.epoch(self.step),
                        }
                    )
                )
            if self.step == self.total:
                self.finish()
            if self.step % SAVE_EVERY == 0:
                self.save(self.step)

    def rendezvous(self):
        folder = os.path.join(self.output, ".rendezvous")
        os.makedirs(folder, exist_ok=True)
        self.beacon = os.path.join(folder, "rank-%d" % self.rank)
        said = False
        while True:
            self.touch()
            now = time.time()
            joined = 0
            for r in range(self.nodes):
                try:
                    age = now - os.path.getmtime(os.path.join(folder, "rank-%d" % r))
                except OSError:
                    continue
                if age < RENDEZVOUS_FRESH_SECONDS:
                    joined += 1
            if joined >= self.nodes:
                say("[INFO|distributed] all %d node ranks joined the rendezvous" % self.nodes)
                return
            if stop_requested:
                say("[INFO|distributed] node rank %d received SIGTERM while waiting: exiting" % self.rank)
                sys.exit(0)
            if not said:
                say(
                    "[INFO|distributed] node rank %d waits at the rendezvous: %d of %d node ranks joined"
                    % (self.rank, joined, self.nodes)
                )
                said = True
            time.sleep(0.2)

    def touch(self):
        """Keeps this rank's rendezvous file fresh (on several nodes)."""
        if self.nodes > 1:
            with open(self.beacon, "a"):
                os.utime(self.beacon)

    def leave(self):
        if self.nodes > 1 and getattr(self, "beacon", None):
            try:
                os.remove(self.beacon)
            except OSError:
                pass

    def run_other_rank(self):
        """A rank other than 0: trains in step with rank 0, prints and saves nothing of it."""
        say(
            "[INFO|distributed] node rank %d of %d trains from step %d (main process at %s:%s)"
            % (
                self.rank,
                self.nodes,
                self.step,
                self.env.get("SYLLABUS_MASTER_ADDR", "?"),
                self.env.get("SYLLABUS_MASTER_PORT", "?"),
            )
        )
        while self.step < self.total:
            time.sleep(STEP_SECONDS)
            if stop_requested:
                say("[INFO|distributed] node rank %d received SIGTERM: exiting" % self.rank)
                sys.exit(0)
            self.step += 1
            self.touch()
            self.fail_once()
        say("[INFO|distributed] node rank %d done" % self.rank)
        sys.exit(0)

    def fail_once(self):
        marker = os.path.join(self.output, "FAIL-ONCE")
        if self.step - self.first_step == 30 and os.path.exists(marker):
            with open(marker) as f:
                which = f.read().strip()
            if (which or "rank 0") != "rank %d" % self.rank:
                return
            if self.main:
                self.save(self.step)
            os.remove(marker)
            sys.stdout.write("\n")
            self.crash("RuntimeError: CUDA error: an illegal memory access was encountered")

    def finish(self):
        self.save(self.total)
        self.write("")
        self.write("Training completed. Do not forget to share your model on huggingface.co/models =)")
        self.write("")
        seconds = max(0.001, time.monotonic() - self.started)
        self.write(
            str(
                {
                    "train_runtime": round(seconds, 4),
                    "train_samples_per_second": round(8 * (self.total - self.first_step) / seconds, 3),
                    "train_steps_per_second": round((self.total - self.first_step) / seconds, 3),
                    "train_loss": round(loss(self.start + self.total) * 1.3, 4),
                    "epoch": 1.0,
                }
            )
        )
        sys.stdout.write("\n")
        sys.exit(0)

    def epoch(self, n):
        return round(n / self.total, 4)

    def log_dict(self):
        values = {
            "loss": round(sum(self.since_log) / max(1, len(self.since_log)), 4),
            "grad_norm": 0.4 + 3.0 * math.exp(-(self.start + self.step) / 50.0),
            "learning_rate": LEARNING_RATE * (1 - self.step / self.total),
            "epoch": self.epoch(self.step),
        }
        self.since_log = []
        # The Trainer prints floats, or quoted floats when a logger formats them.
        quoted = self.dicts % 2 == 1
        self.dicts += 1
        self.write(str({k: (repr(v) if quoted else v) for k, v in values.items()}))
        self.history.append(dict(values, step=self.step))

    def save(self, n):
        done = os.path.join(self.output, "checkpoint-%d" % n)
        if os.path.isfile(os.path.join(done, "trainer_state.json")):
            return
        tmp = os.path.join(self.output, "tmp-checkpoint-%d" % n)
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        with open(os.path.join(tmp, "model.safetensors"), "w") as f:
            f.write(
                "stand-in model: global step %d, from %s\n"
                % (self.start + n, self.env.get("SYLLABUS_INPUT_MODEL", ""))
            )
        with open(os.path.join(tmp, "optimizer.pt"), "w") as f:
            f.write(
                "stand-in optimizer state: step %d, carried from %s\n"
                % (n, self.env.get("SYLLABUS_INPUT_OPTIMIZER", ""))
            )
        state = {
            "best_metric": None,
            "best_model_checkpoint": None,
            "epoch": self.epoch(n),
            "eval_steps": EVAL_EVERY,
            "global_step": n,
            "is_local_process_zero": True,
            "is_world_process_zero": True,
            "log_history": self.history,
            "logging_steps": LOG_EVERY,
            "max_steps": self.total,
            "num_train_epochs": 1,
            "save_steps": SAVE_EVERY,
            "train_batch_size": 8,
        }
        with open(os.path.join(tmp, "trainer_state.json"), "w") as f:
            json.dump(state, f, indent=2)
        shutil.rmtree(done, ignore_errors=True)
        os.rename(tmp, done)
        self.write("[INFO|trainer.py] Saving model checkpoint to %s/checkpoint-%d" % (self.output, n))

    def redraw(self):
        """A tqdm bar as printed to a file, redrawn in place with a carriage return."""
        n, total = self.step, self.total
        elapsed = time.monotonic() - self.started
        if n == self.first_step or elapsed <= 0:
            times = "%s<?, ?it/s" % clock(elapsed)
        else:
            rate = (n - self.first_step) / elapsed
            speed = "%5.2fit/s" % rate if rate >= 1 else "%5.2fs/it" % (1 / rate)
            times = "%s<%s, %s" % (clock(elapsed), clock((total - n) / rate), speed)
        full = min(10, int(n / total * 10))
        cells = "\u2588" * full + " " * (10 - full)
        self.bar = "%3.0f%%|%s| %d/%d [%s]" % (n / total * 100, cells, n, total, times)
        sys.stdout.write("\r" + self.bar)
        sys.stdout.flush()

    def write(self, line):
        """tqdm.write: clear the bar, write the line, draw the bar again."""
        if self.bar:
            sys.stdout.write("\r" + " " * len(self.bar) + "\r" + line + "\n\r" + self.bar)
        else:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()


def clock(seconds):
    s = int(round(seconds))
    if s >= 3600:
        return "%d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60)
    return "%02d:%02d" % (s // 60, s % 60)


def serve():
    port = os.environ.get("PORT", "8000")
    say("INFO:     Started server process [%d]" % os.getpid())
    say("INFO:     Waiting for application startup.")
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline and not stop_requested:
        time.sleep(0.05)
    if not stop_requested:
        say("INFO:     Application startup complete.")
        say("INFO:     Uvicorn running on http://0.0.0.0:%s (Press CTRL+C to quit)" % port)
    while not stop_requested:
        time.sleep(0.05)
    say("INFO:     Shutting down")
    say("INFO:     Waiting for application shutdown.")
    say("INFO:     Application shutdown complete.")
    say("INFO:     Finished server process [%d]" % os.getpid())


def main():
    signal.signal(signal.SIGTERM, on_sigterm)
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "trainer":
        trainer = Trainer(os.environ)
        try:
            trainer.run()
        finally:
            trainer.leave()
    elif mode == "server":
        serve()
    else:
        sys.exit("usage: standin.py trainer|server")


if __name__ == "__main__":
    main()
