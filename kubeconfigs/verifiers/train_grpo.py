"""GRPO with verifiers (https://github.com/willccbb/verifiers) as a Syllabus phase.

Run as `accelerate launch train_grpo.py CONFIG` (one process per GPU), next to a `vf-vllm` server.
It targets verifiers' GRPOTrainer API (vf.GRPOConfig, vf.GRPOTrainer, vf.load_environment,
vf.get_model_and_tokenizer); pin the verifiers version in the image.

CONFIG is the phase's config file, rendered by Syllabus (see framework.yaml):
  model:        what the policy starts from: a checkpoint folder on the artifact volume, or a hub id
  environment:  {id: <verifiers environment>, args: {...}}: passed to vf.load_environment
  lora:         optional peft.LoraConfig arguments; without it all weights are trained
  anything else: vf.GRPOConfig fields (output_dir, max_steps, learning_rate, optim,
                vllm_server_host, deepspeed, save_steps, ...)

It follows the Syllabus job contract: it resumes from the latest complete checkpoint in output_dir
(one holding trainer_state.json), and on SIGTERM it saves checkpoint-<step>/ and exits 0.
"""

import os
import re
import signal
import sys

import torch
import torch.distributed as dist
import verifiers as vf
import yaml
from transformers import TrainerCallback


class SaveAndStopOnSigterm(TrainerCallback):
    """Kubernetes stops a pod with SIGTERM (pause, advance, skip, node drain). Every rank notes the
    signal; at the end of the step all ranks agree on it (one all-reduce of a flag), save the same
    checkpoint and stop, so the run exits 0 and the next pod carries on from that checkpoint."""

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


def latest_checkpoint(output_dir):
    """The complete checkpoint-<step>/ folder with the highest step, or None."""
    found = []
    if os.path.isdir(output_dir):
        for name in os.listdir(output_dir):
            match = re.fullmatch(r"checkpoint-(\d+)", name)
            state = os.path.join(output_dir, name, "trainer_state.json")
            if match and os.path.isfile(state):
                found.append((int(match.group(1)), os.path.join(output_dir, name)))
    return max(found)[1] if found else None


def main(config_path):
    with open(config_path, encoding="utf-8") as f:
        config = yaml.safe_load(f) or {}
    model_name = config.pop("model")
    environment = config.pop("environment")
    lora = config.pop("lora", None)
    config.setdefault("report_to", "none")
    run, phase = os.environ.get("SYLLABUS_RUN_ID", "run"), os.environ.get("SYLLABUS_PHASE", "grpo")
    config.setdefault("run_name", f"{run}-{phase}")

    # The arguments first: with a DeepSpeed ZeRO-3 config they make from_pretrained load sharded.
    args = vf.GRPOConfig(**config)
    env = vf.load_environment(env_id=environment["id"], **environment.get("args", {}))
    model, tokenizer = vf.get_model_and_tokenizer(model_name)
    peft_config = None
    if lora:
        from peft import LoraConfig

        peft_config = LoraConfig(**lora)
    trainer = vf.GRPOTrainer(
        model=model, processing_class=tokenizer, env=env, args=args, peft_config=peft_config
    )
    trainer.add_callback(SaveAndStopOnSigterm())
    resume = latest_checkpoint(args.output_dir)
    if resume:
        print(f"syllabus: resuming from {resume}", flush=True)
    trainer.train(resume_from_checkpoint=resume)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: train_grpo.py CONFIG")
    main(sys.argv[1])
