"""Tests of the tiny trainer as the orchestrator runs it: a subprocess with the job contract's
environment. Run with: python3 -m unittest -v (from this folder)."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

TRAINER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_trainer.py")


class Phase:
    """One phase of a curriculum in a temp folder."""

    def __init__(self, root, name="p", index=0, start=0, end=200, config=None, model="", optimizer="", extra=None):
        self.output = os.path.join(root, name)
        self.config_path = os.path.join(root, name + ".json")
        base = {"logging_steps": 20, "eval_steps": 50, "save_steps": 50, "datasets": [{"path": "synthetic:waves-easy"}]}
        base.update(config or {})
        with open(self.config_path, "w") as f:
            json.dump(base, f)
        self.env = dict(os.environ)
        self.env.update({
            "SYLLABUS_RUN_ID": "t", "SYLLABUS_PHASE": name, "SYLLABUS_PHASE_INDEX": str(index),
            "SYLLABUS_STEP_START": str(start), "SYLLABUS_STEP_END": str(end), "SYLLABUS_TOTAL_STEPS": "1000",
            "SYLLABUS_INPUT_MODEL": model, "SYLLABUS_INPUT_OPTIMIZER": optimizer,
            "SYLLABUS_OUTPUT_DIR": self.output, "SYLLABUS_CONFIG": self.config_path,
        })
        self.env.update(extra or {})
        self.max_steps = end - start

    def run(self):
        return subprocess.run([sys.executable, TRAINER], env=self.env, capture_output=True, text=True, timeout=120)

    def start(self):
        return subprocess.Popen([sys.executable, TRAINER], env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    def checkpoint(self, step):
        return os.path.join(self.output, "checkpoint-%d" % step)

    def state(self, step):
        with open(os.path.join(self.checkpoint(step), "trainer_state.json")) as f:
            return json.load(f)

    def checkpoints(self):
        if not os.path.isdir(self.output):
            return []
        return sorted(int(e.split("-")[1]) for e in os.listdir(self.output)
                      if e.startswith("checkpoint-") and e.split("-")[1].isdigit())


class TinyTrainerTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = self.dir.name

    def tearDown(self):
        self.dir.cleanup()

    def test_a_fresh_phase_ends_with_a_complete_final_checkpoint(self):
        phase = Phase(self.root)
        result = phase.run()
        self.assertEqual(0, result.returncode, result.stderr)
        for name in ("model.json", "optimizer.json", "trainer_state.json"):
            self.assertTrue(os.path.exists(os.path.join(phase.checkpoint(200), name)), name)
        self.assertEqual(200, phase.state(200)["global_step"])

    def test_it_prints_log_dicts_and_a_step_counter(self):
        out = Phase(self.root).run().stdout
        self.assertRegex(out, r"\{'loss': [0-9.e-]+, 'learning_rate': 0\.01, 'epoch': [0-9.]+, 'step': 20\}")
        self.assertRegex(out, r"\{'eval_loss': [0-9.e-]+, 'epoch': 0\.0, 'step': 0\}")
        self.assertRegex(out, r"\| 200/200 \[")

    def test_held_out_loss_falls_over_a_phase(self):
        phase = Phase(self.root)
        phase.run()
        evals = [h["eval_loss"] for h in phase.state(200)["log_history"] if "eval_loss" in h]
        self.assertLess(evals[-1], evals[0] / 2, evals)

    def test_sigterm_saves_a_checkpoint_and_a_rerun_resumes_from_it(self):
        phase = Phase(self.root, end=400, config={"step_pause_ms": 5, "save_steps": 1000})
        process = phase.start()
        time.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
        self.assertEqual(0, process.returncode, out)
        self.assertIn("stopped at step", out)
        saved = phase.checkpoints()
        self.assertEqual(1, len(saved), saved)
        self.assertTrue(0 < saved[0] < 400, saved)

        rerun = phase.run()
        self.assertEqual(0, rerun.returncode, rerun.stderr)
        self.assertIn("resumed from %s at step %d/400" % (phase.checkpoint(saved[0]), saved[0]), rerun.stdout)
        self.assertEqual(400, phase.state(400)["global_step"])
        self.assertEqual(phase.checkpoint(saved[0]), phase.state(400)["syllabus"]["resumed_from"])

    def test_a_carried_optimizer_state_is_loaded(self):
        first = Phase(self.root, name="a")
        first.run()
        second = Phase(self.root, name="b", index=1, start=200, end=300,
                       model=first.checkpoint(200), optimizer=first.checkpoint(200))
        result = second.run()
        self.assertEqual(0, result.returncode, result.stderr)
        origin = second.state(100)["syllabus"]
        self.assertTrue(origin["optimizer_loaded"])
        self.assertEqual(200, origin["optimizer_t_at_load"])
        self.assertEqual(first.checkpoint(200), origin["input_model"])
        self.assertIn("optimizer state from %s (adam t=200)" % first.checkpoint(200), result.stdout)

    def test_a_reset_optimizer_state_is_not_loaded(self):
        first = Phase(self.root, name="a")
        first.run()
        second = Phase(self.root, name="b", index=1, start=200, end=300, model=first.checkpoint(200))
        result = second.run()
        origin = second.state(100)["syllabus"]
        self.assertFalse(origin["optimizer_loaded"])
        self.assertEqual("", origin["input_optimizer"])
        self.assertIn("optimizer state reset", result.stdout)

    def test_the_carry_survives_a_resume(self):
        first = Phase(self.root, name="a")
        first.run()
        second = Phase(self.root, name="b", index=1, start=200, end=500, config={"step_pause_ms": 5, "save_steps": 1000},
                       model=first.checkpoint(200), optimizer=first.checkpoint(200))
        process = second.start()
        time.sleep(0.8)
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
        second.run()
        self.assertTrue(second.state(300)["syllabus"]["optimizer_loaded"])

    def test_an_unknown_dataset_is_bad_input(self):
        result = Phase(self.root, config={"datasets": [{"path": "synthetic:nope"}]}).run()
        self.assertEqual(2, result.returncode)
        self.assertIn("unknown dataset 'synthetic:nope'", result.stderr)
        self.assertIn("synthetic:waves-easy", result.stderr)

    def test_missing_environment_is_bad_input(self):
        phase = Phase(self.root)
        del phase.env["SYLLABUS_OUTPUT_DIR"]
        result = phase.run()
        self.assertEqual(2, result.returncode)
        self.assertIn("missing environment: SYLLABUS_OUTPUT_DIR", result.stderr)

    def test_fail_at_step_exits_3(self):
        result = Phase(self.root, extra={"FAIL_AT_STEP": "30"}).run()
        self.assertEqual(3, result.returncode)
        self.assertIn("FAIL_AT_STEP=30", result.stderr)

    def test_an_incomplete_checkpoint_is_ignored_on_resume(self):
        phase = Phase(self.root)
        os.makedirs(phase.checkpoint(150))
        with open(os.path.join(phase.checkpoint(150), "model.json"), "w") as f:
            f.write("{broken")
        result = phase.run()
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertNotIn("resumed", result.stdout)
        self.assertEqual(200, phase.state(200)["global_step"])

    def test_a_finished_phase_exits_at_once(self):
        phase = Phase(self.root)
        phase.run()
        again = phase.run()
        self.assertEqual(0, again.returncode)
        self.assertIn("already complete", again.stdout)

    def test_old_checkpoints_are_pruned_but_never_the_newest(self):
        phase = Phase(self.root, config={"save_total_limit": 2})
        phase.run()
        self.assertEqual([150, 200], phase.checkpoints())


if __name__ == "__main__":
    unittest.main()
