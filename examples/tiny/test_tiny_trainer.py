"""Tests of the tiny trainer as an orchestrator runs it: a subprocess with the job contract's
environment, each test in a temp folder of its own.

Run from this folder with: python3 -m unittest -v
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import unittest

TRAINER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_trainer.py")
FILES = ("model.json", "optimizer.json", "trainer_state.json")
COUNTER = re.compile(r"\|\s*(\d+)/(\d+) \[")


class Phase:
    """One phase of a curriculum: its config file, its environment and its output folder."""

    def __init__(self, root, name="p", index=0, start=0, end=200, total=1000, config=None,
                 model="", optimizer="", extra_env=None):
        self.output = os.path.join(root, name)
        self.config_path = os.path.join(root, name + ".json")
        config_values = {"logging_steps": 20, "eval_steps": 50, "save_steps": 50,
                         "datasets": [{"path": "synthetic:waves-hard"}]}
        config_values.update(config or {})
        self.config = config_values
        self.reconfigure()
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("SYLLABUS_") and k != "FAIL_AT_STEP"}
        self.env.update({
            "SYLLABUS_RUN_ID": "run-1", "SYLLABUS_PHASE": name, "SYLLABUS_PHASE_INDEX": str(index),
            "SYLLABUS_STEP_START": str(start), "SYLLABUS_STEP_END": str(end),
            "SYLLABUS_TOTAL_STEPS": str(total),
            "SYLLABUS_INPUT_MODEL": model, "SYLLABUS_INPUT_OPTIMIZER": optimizer,
            "SYLLABUS_OUTPUT_DIR": self.output, "SYLLABUS_CONFIG": self.config_path,
            "PYTHONUNBUFFERED": "1",
        })
        self.env.update(extra_env or {})
        self.max_steps = end - start

    def reconfigure(self, **changes):
        self.config.update(changes)
        with open(self.config_path, "w") as f:
            json.dump(self.config, f)

    def run(self):
        return subprocess.run([sys.executable, TRAINER], env=self.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=120)

    def start(self):
        return subprocess.Popen([sys.executable, TRAINER], env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, universal_newlines=True)

    def checkpoint(self, step):
        return os.path.join(self.output, "checkpoint-%d" % step)

    def state(self, step):
        with open(os.path.join(self.checkpoint(step), "trainer_state.json")) as f:
            return json.load(f)

    def model(self, step):
        with open(os.path.join(self.checkpoint(step), "model.json")) as f:
            return json.load(f)

    def checkpoints(self):
        """Steps of the checkpoint-<N> folders (complete or not; temp folders left out)."""
        if not os.path.isdir(self.output):
            return []
        return sorted(int(e.split("-")[1]) for e in os.listdir(self.output)
                      if re.match(r"^checkpoint-\d+$", e))

    def evals(self, step):
        return [h["eval_loss"] for h in self.state(step)["log_history"] if "eval_loss" in h]


def stop_when(process, predicate, timeout=60):
    """Reads the process's output until a line satisfies predicate, then sends SIGTERM. Returns
    the whole output and the exit code."""
    killer = threading.Timer(timeout, process.kill)  # never hang the test run
    killer.start()
    try:
        seen = []
        for line in process.stdout:
            seen.append(line)
            if predicate(line):
                process.send_signal(signal.SIGTERM)
                break
        rest, _ = process.communicate()
        return "".join(seen) + rest, process.returncode
    finally:
        killer.cancel()


def counter_at_least(n):
    def predicate(line):
        match = COUNTER.search(line)
        return match is not None and int(match.group(1)) >= n
    return predicate


class FreshPhaseTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.phase = Phase(cls.dir.name, config={"save_total_limit": 2})
        cls.result = cls.phase.run()

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_it_exits_0_with_a_done_line(self):
        self.assertEqual(0, self.result.returncode, self.result.stderr)
        self.assertRegex(self.result.stdout, r"syllabus-tiny: done, 200 steps, eval_loss=[0-9.e-]+")
        self.assertIn("syllabus-tiny: fresh model (hidden=32, seed 0); optimizer state reset",
                      self.result.stdout)

    def test_it_ends_with_a_complete_final_checkpoint(self):
        for name in FILES:
            self.assertTrue(os.path.isfile(os.path.join(self.phase.checkpoint(200), name)), name)
        state = self.phase.state(200)
        self.assertEqual(200, state["global_step"])
        self.assertEqual(200, state["max_steps"])
        self.assertEqual(1.0, state["epoch"])
        origin = state["syllabus"]
        self.assertEqual(("run-1", "p", 0, 0, 200),
                         (origin["run_id"], origin["phase"], origin["phase_index"],
                          origin["step_start"], origin["step_end"]))
        self.assertEqual(("", "", False, 0, ""),
                         (origin["input_model"], origin["input_optimizer"],
                          origin["optimizer_loaded"], origin["optimizer_t_at_load"],
                          origin["resumed_from"]))
        self.assertEqual(min(self.phase.evals(200)), origin["best_eval_loss"])

    def test_the_model_and_optimizer_files_hold_the_weights_and_adam_state(self):
        model = self.phase.model(200)
        self.assertEqual(32, model["hidden"])
        self.assertEqual(32, len(model["w1"]))
        with open(os.path.join(self.phase.checkpoint(200), "optimizer.json")) as f:
            opt = json.load(f)
        self.assertEqual("adam", opt["name"])
        self.assertEqual(200, opt["t"])
        self.assertEqual(97, len(opt["m"]))
        self.assertEqual(97, len(opt["v"]))

    def test_it_prints_hugging_face_log_dicts_and_a_step_counter(self):
        out = self.result.stdout
        self.assertRegex(out, r"\n\{'eval_loss': [0-9.e-]+, 'epoch': 0\.0, 'step': 0\}\n")
        self.assertRegex(out, r"\n\{'loss': [0-9.e-]+, 'learning_rate': 0\.01, 'epoch': 0\.1, 'step': 20\}\n")
        self.assertRegex(out, r"\n\{'eval_loss': [0-9.e-]+, 'epoch': 0\.25, 'step': 50\}\n")
        self.assertRegex(out, r"\n 10%\|#         \| 20/200 \[\d\d:\d\d<\d\d:\d\d, [0-9.]+it/s\]\n")
        self.assertRegex(out, r"\n100%\|##########\| 200/200 \[")
        self.assertNotIn("\r", out)

    def test_the_log_history_holds_every_logged_dict(self):
        history = self.phase.state(200)["log_history"]
        self.assertEqual(10, len([h for h in history if "loss" in h]))  # every 20 of 200 steps
        self.assertEqual([0, 50, 100, 150, 200], [h["step"] for h in history if "eval_loss" in h])

    def test_held_out_loss_falls_over_the_phase(self):
        evals = self.phase.evals(200)
        self.assertLess(evals[-1], evals[0] / 5, evals)

    def test_old_checkpoints_are_pruned_to_the_limit(self):
        self.assertEqual([150, 200], self.phase.checkpoints())
        self.assertEqual([], [e for e in os.listdir(self.phase.output) if ".tmp-" in e])


class TinyTrainerTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = self.dir.name

    def tearDown(self):
        self.dir.cleanup()

    def test_sigterm_saves_a_checkpoint_and_a_rerun_resumes_as_if_unbroken(self):
        config = {"step_pause_ms": 10, "save_steps": 1000}
        phase = Phase(self.root, end=400, config=config)
        out, code = stop_when(phase.start(), counter_at_least(40))
        self.assertEqual(0, code, out)
        stopped = re.search(r"syllabus-tiny: stopped at step (\d+)/400, checkpoint saved", out)
        self.assertIsNotNone(stopped, out)
        at = int(stopped.group(1))
        self.assertTrue(40 <= at < 400, at)
        self.assertEqual([at], phase.checkpoints())
        self.assertEqual(at, phase.state(at)["global_step"])

        phase.reconfigure(step_pause_ms=0)
        rerun = phase.run()
        self.assertEqual(0, rerun.returncode, rerun.stderr)
        self.assertIn("syllabus-tiny: resumed from %s at step %d/400" % (phase.checkpoint(at), at),
                      rerun.stdout)
        self.assertNotIn("'step': 0}", rerun.stdout)  # no second eval at step 0
        final = phase.state(400)
        self.assertEqual(400, final["global_step"])
        self.assertEqual(phase.checkpoint(at), final["syllabus"]["resumed_from"])

        unbroken = Phase(self.root, name="unbroken", end=400, config=dict(config, step_pause_ms=0))
        self.assertEqual(0, unbroken.run().returncode)
        self.assertEqual(unbroken.model(400), phase.model(400))  # the same batches, the same steps
        self.assertEqual(unbroken.state(400)["log_history"], final["log_history"])

    def test_a_second_trainer_on_the_same_output_dir_refuses_to_start(self):
        phase = Phase(self.root, name="twice", end=100000, config={"step_pause_ms": 10})
        first = phase.start()
        try:
            self.assertTrue(first.stdout.readline())  # up, and holding the lock, once it speaks
            second = phase.run()
            self.assertEqual(2, second.returncode, second.stdout)
            self.assertIn("another trainer (pid %d) is writing to" % first.pid, second.stderr)
        finally:
            first.terminate()
            first.wait(60)
            first.stdout.close()

    def test_sigterm_before_training_began_exits_0_and_a_rerun_works(self):
        # a large held-out set makes the first evaluation slow enough to signal during it
        phase = Phase(self.root, config={"eval_size": 300000})
        out, code = stop_when(phase.start(), lambda line: "fresh model" in line)
        self.assertEqual(0, code, out)
        self.assertIn("syllabus-tiny: stopped", out)
        self.assertEqual([], phase.checkpoints())
        phase.reconfigure(eval_size=256)
        rerun = phase.run()
        self.assertEqual(0, rerun.returncode, rerun.stderr)
        self.assertEqual(200, phase.state(200)["global_step"])

    def test_a_carried_optimizer_state_is_loaded_and_survives_a_resume(self):
        first = Phase(self.root, name="a")
        self.assertEqual(0, first.run().returncode)
        carried = first.checkpoint(200)
        config = {"step_pause_ms": 10, "save_steps": 1000,
                  "datasets": [{"path": "synthetic:waves-medium"}]}
        second = Phase(self.root, name="b", index=1, start=200, end=500, config=config,
                       model=carried, optimizer=carried)
        out, code = stop_when(second.start(), counter_at_least(20))
        self.assertEqual(0, code, out)
        self.assertIn("syllabus-tiny: model from %s; optimizer state from %s (adam t=200)"
                      % (carried, carried), out)
        # the rerun is given no input: the checkpoint supersedes it, and keeps the phase's account
        second.env["SYLLABUS_INPUT_MODEL"] = ""
        second.env["SYLLABUS_INPUT_OPTIMIZER"] = ""
        second.reconfigure(step_pause_ms=0)
        self.assertEqual(0, second.run().returncode)
        origin = second.state(300)["syllabus"]
        self.assertTrue(origin["optimizer_loaded"])
        self.assertEqual(200, origin["optimizer_t_at_load"])
        self.assertEqual(carried, origin["input_model"])
        self.assertEqual(carried, origin["input_optimizer"])
        with open(os.path.join(second.checkpoint(300), "optimizer.json")) as f:
            self.assertEqual(500, json.load(f)["t"])

    def test_a_reset_optimizer_state_is_not_loaded(self):
        first = Phase(self.root, name="a")
        self.assertEqual(0, first.run().returncode)
        second = Phase(self.root, name="b", index=1, start=200, end=300,
                       model=first.checkpoint(200))
        result = second.run()
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn("optimizer state reset", result.stdout)
        origin = second.state(100)["syllabus"]
        self.assertFalse(origin["optimizer_loaded"])
        self.assertEqual(0, origin["optimizer_t_at_load"])
        self.assertEqual("", origin["input_optimizer"])
        self.assertEqual(first.checkpoint(200), origin["input_model"])
        # it started from the input model, not from scratch: already good at step 0
        self.assertLess(second.evals(100)[0], first.evals(200)[0] / 5)

    def test_sgd_learns_too(self):
        phase = Phase(self.root, config={"optimizer": "sgd", "learning_rate": 0.05})
        result = phase.run()
        self.assertEqual(0, result.returncode, result.stderr)
        evals = phase.evals(200)
        self.assertLess(evals[-1], evals[0] / 5, evals)

    def test_divergence_is_a_failure(self):
        result = Phase(self.root, config={"optimizer": "sgd", "learning_rate": 5.0}).run()
        self.assertEqual(1, result.returncode, result.stdout)
        self.assertIn("training diverged", result.stderr)

    def test_an_unknown_dataset_exits_2_naming_it_and_the_known_ones(self):
        result = Phase(self.root, config={"datasets": [{"path": "synthetic:nope"}]}).run()
        self.assertEqual(2, result.returncode)
        self.assertIn("unknown dataset 'synthetic:nope'", result.stderr)
        for known in ("synthetic:waves-easy", "synthetic:waves-medium", "synthetic:waves-hard"):
            self.assertIn(known, result.stderr)

    def test_bad_environment_or_config_exits_2_with_one_line(self):
        phase = Phase(self.root)
        del phase.env["SYLLABUS_OUTPUT_DIR"]
        result = phase.run()
        self.assertEqual(2, result.returncode)
        self.assertEqual("syllabus-tiny: missing environment: SYLLABUS_OUTPUT_DIR\n", result.stderr)

        phase = Phase(self.root, extra_env={"SYLLABUS_STEP_END": "ten"})
        self.assertEqual(2, phase.run().returncode)

        phase = Phase(self.root)
        with open(phase.config_path, "w") as f:
            f.write("learning_rate: 0.01\n")  # YAML, not JSON
        result = phase.run()
        self.assertEqual(2, result.returncode)
        self.assertIn("cannot read config", result.stderr)
        self.assertEqual(1, len(result.stderr.splitlines()))

        phase = Phase(self.root, config={"optimizer": "rmsprop"})
        self.assertEqual(2, phase.run().returncode)

    def test_an_input_model_of_another_shape_exits_2(self):
        first = Phase(self.root, name="a", config={"hidden": 8})
        self.assertEqual(0, first.run().returncode)
        second = Phase(self.root, name="b", index=1, config={"hidden": 16},
                       model=first.checkpoint(200), optimizer=first.checkpoint(200))
        result = second.run()
        self.assertEqual(2, result.returncode)
        self.assertIn("hidden=8", result.stderr)

    def test_fail_at_step_exits_3(self):
        phase = Phase(self.root, extra_env={"FAIL_AT_STEP": "30"})
        result = phase.run()
        self.assertEqual(3, result.returncode)
        self.assertEqual("syllabus-tiny: FAIL_AT_STEP=30 reached; failing on purpose",
                         result.stderr.strip().splitlines()[-1])
        self.assertIn("'step': 20}", result.stdout)
        self.assertEqual([], phase.checkpoints())

    def test_incomplete_checkpoints_and_temp_folders_are_ignored_on_resume(self):
        phase = Phase(self.root, config={"save_total_limit": 0})
        os.makedirs(phase.checkpoint(150))
        with open(os.path.join(phase.checkpoint(150), "model.json"), "w") as f:
            f.write("{broken")
        os.makedirs(phase.checkpoint(180) + ".tmp-99999")
        for name in FILES:
            with open(os.path.join(phase.checkpoint(180) + ".tmp-99999", name), "w") as f:
                f.write("{}")
        result = phase.run()
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertNotIn("resumed", result.stdout)
        self.assertIn("'step': 0}", result.stdout)
        self.assertEqual(200, phase.state(200)["global_step"])
        self.assertEqual(150, phase.state(150)["global_step"])  # the leftover was replaced
        self.assertEqual([50, 100, 150, 200], phase.checkpoints())  # limit 0: keep all

    def test_a_finished_phase_exits_0_at_once_writing_nothing(self):
        phase = Phase(self.root)
        self.assertEqual(0, phase.run().returncode)
        before = {e: os.stat(os.path.join(phase.output, e)).st_mtime_ns
                  for e in os.listdir(phase.output)}
        again = phase.run()
        self.assertEqual(0, again.returncode, again.stderr)
        self.assertIn("already complete", again.stdout)
        self.assertNotIn("'step'", again.stdout)
        after = {e: os.stat(os.path.join(phase.output, e)).st_mtime_ns
                 for e in os.listdir(phase.output)}
        self.assertEqual(before, after)


if __name__ == "__main__":
    unittest.main()
