"""Syllabus glue for Axolotl, shipped into the pods by the `hooks` ConfigMap of each workload.

- SyllabusPlugin (`plugins: [syllabus_axolotl.SyllabusPlugin]` in the phase's config) makes a
  SIGTERM (pause, advance, skip, node drain) save checkpoint-<step>/ with the optimizer state and
  end training, so the job exits 0 and its next pod resumes at that step
  (`auto_resume_from_checkpoints: true`). Axolotl alone only handles SIGINT, and then saves the
  weights without the optimizer state.
- remote_reward (`trl.reward_funcs: [syllabus_axolotl.remote_reward]`): scores completions on the
  phase's rewards server (SYLLABUS_REWARDS_URL): POST {"prompts", "completions", <dataset
  columns>} -> {"rewards": [float, ...]}.
"""

import json
import os
import signal
import urllib.request

import torch
import torch.distributed as dist
from axolotl.integrations.base import BasePlugin
from transformers import TrainerCallback


class SaveAndStopOnSigterm(TrainerCallback):
    """Every rank notes SIGTERM; at the end of the step they agree (one all-reduce of a flag), so
    that all of them save the same checkpoint and stop together."""

    def __init__(self):
        self.requested = False
        signal.signal(signal.SIGTERM, self._note)

    def _note(self, signum, frame):
        self.requested = True

    def on_step_end(self, args, state, control, **kwargs):
        if self._anyone_requested():
            control.should_save = True
            control.should_training_stop = True
        return control

    def _anyone_requested(self):
        if not (dist.is_available() and dist.is_initialized()):
            return self.requested
        on_gpu = dist.get_backend() == "nccl"
        device = torch.device("cuda", torch.cuda.current_device()) if on_gpu else "cpu"
        flag = torch.tensor([1.0 if self.requested else 0.0], device=device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return flag.item() > 0


class SyllabusPlugin(BasePlugin):
    def add_callbacks_post_trainer(self, cfg, trainer):
        return [SaveAndStopOnSigterm()]


def remote_reward(prompts, completions, **columns):
    body = {"prompts": prompts, "completions": completions}
    for name, value in columns.items():
        try:
            json.dumps(value)
        except TypeError:
            continue  # e.g. the trainer state TRL passes along
        body[name] = value
    request = urllib.request.Request(
        os.environ["SYLLABUS_REWARDS_URL"],
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
    )
    timeout = float(os.environ.get("SYLLABUS_REWARDS_TIMEOUT", "600"))
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return [float(r) for r in json.load(response)["rewards"]]
