"""Training for real on a tiny task: learning, run folders, interruption, resume, fine-tuning, DDP."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import REPO_ROOT, assert_no_traceback, run_kocr, tiny_train_config

from kocr.checkpoints import load_checkpoint
from kocr.errors import KocrError
from kocr.training.trainer import LogReporter, Trainer, TrainResult


def read_log(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "log.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_tiny_model_really_learns(tiny_model: Path) -> None:
    run_dir = tiny_model.parent
    rows = read_log(run_dir)
    losses = [float(r["loss"]) for r in rows if r["loss"]]
    accuracies = [float(r["valid_accuracy"]) for r in rows if r["valid_accuracy"]]
    assert losses[-1] < losses[0] / 10, losses
    # Chance is 1/15 per symbol and far less per 2-5 symbol string: well above chance means > 50 %.
    assert accuracies[-1] > 0.5, accuracies
    checkpoint = load_checkpoint(tiny_model)
    assert checkpoint.metrics["accuracy"] == max(accuracies)
    expected = {"best.pt", "last.pt", "config.json", "log.csv", "curves.png"}
    assert {p.name for p in run_dir.iterdir()} == expected


class StopAt(LogReporter):
    """Asks the trainer to stop once it reports ``step``, as SIGINT would."""

    def __init__(self, step: int) -> None:
        self.step = step
        self.trainer: Trainer | None = None

    def train_step(self, step: int, loss: float, lr: float, samples_per_s: float) -> None:
        if step >= self.step and self.trainer is not None:
            self.trainer._stop_requested = True


def run_stopped(task: dict[str, Path], output: Path, stop: int, **changes: object) -> TrainResult:
    """A run of ``tiny_train_config(task, output, **changes)`` stopped at step ``stop``, as by Ctrl-C."""
    reporter = StopAt(stop)
    trainer = Trainer(tiny_train_config(task, output, **changes), reporter)
    reporter.trainer = trainer
    result = trainer.run()
    assert result.interrupted and result.step == stop
    return result


def test_resume_continues_exactly_where_it_stopped(tiny_task: dict[str, Path], tmp_path: Path) -> None:
    changes = dict(iters=60, valid_every=1000, log_every=10, name="run")
    straight = Trainer(tiny_train_config(tiny_task, tmp_path / "a", **changes)).run()

    first = run_stopped(tiny_task, tmp_path / "b", 30, **changes)
    last = first.run_dir / "last.pt"
    assert load_checkpoint(last).train_state["step"] == 30

    # The same configuration with resume= set: a Python caller's way to continue the run.
    resumed = Trainer(tiny_train_config(tiny_task, tmp_path / "b", **changes, resume=str(last))).run()
    assert resumed.run_dir == first.run_dir and resumed.step == 60 and not resumed.interrupted
    a = load_checkpoint(straight.run_dir / "last.pt")
    b = load_checkpoint(last)
    assert a.train_state["scheduler"]["last_epoch"] == b.train_state["scheduler"]["last_epoch"] == 60
    for key, value in a.state_dict.items():
        assert torch.allclose(value.float(), b.state_dict[key].float(), atol=1e-5), key
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["run"]


def test_cpu_bf16_autocast_trains_and_a_resume_keeps_it(tiny_task: dict[str, Path], tmp_path: Path) -> None:
    """--amp bf16 on the CPU: real steps under autocast, fp32 weights saved; the printed resume command
    (no --amp) keeps the run bf16, an explicit --amp overrides it."""
    changes = dict(iters=40, valid_every=1000, log_every=5, amp="bf16", name="r")
    first = run_stopped(tiny_task, tmp_path, 20, **changes)
    losses = [float(r["loss"]) for r in read_log(first.run_dir) if r["loss"]]
    assert len(losses) == 4 and all(0 < loss < 100 for loss in losses), losses
    last = load_checkpoint(first.run_dir / "last.pt")
    assert last.train_config["amp"] == "bf16"
    assert {v.dtype for v in last.state_dict.values() if v.is_floating_point()} == {torch.float32}

    resume = str(first.run_dir / "last.pt")
    kept = Trainer(tiny_train_config(tiny_task, tmp_path, **{**changes, "amp": None}, resume=resume))
    assert kept.run().step == 40  # no --amp given: the run's own
    assert kept.config.amp == "bf16"
    assert load_checkpoint(resume).train_config["amp"] == "bf16"
    changed = Trainer(tiny_train_config(tiny_task, tmp_path, **{**changes, "amp": "off"}, resume=resume))
    changed.run()
    assert changed.config.amp == "off"


def test_existing_run_folders_are_never_touched(tiny_task: dict[str, Path], tmp_path: Path) -> None:
    config = tiny_train_config(tiny_task, tmp_path, iters=5, valid_every=5, name="same")
    first = Trainer(config).run().run_dir
    snapshot = {p.name: p.read_bytes() for p in first.iterdir()}
    second = Trainer(config).run().run_dir
    assert first.name == "same" and second.name == "same-2"
    assert {p.name: p.read_bytes() for p in first.iterdir()} == snapshot


def test_sigint_writes_last_pt_and_resume_finishes(tiny_task: dict[str, Path], tmp_path: Path) -> None:
    """The real CLI, interrupted with Ctrl-C (SIGINT) mid-run, then resumed from last.pt."""
    args = [
        "train",
        "--train-data",
        tiny_task["train"],
        "--valid-data",
        tiny_task["valid"],
        "--charset",
        tiny_task["charset"],
        "--model",
        "vgg-bilstm-ctc-small",
        "--iters",
        "100000",
        "--batch-size",
        "8",
        "--workers",
        "1",
        "--valid-every",
        "100000",
        "--output",
        tmp_path,
        "--name",
        "sig",
        "--no-augment",
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), COLUMNS="200")
    process = subprocess.Popen(
        [sys.executable, "-m", "kocr", *map(str, args)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    log = tmp_path / "sig" / "log.csv"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 2):
        time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "resume with --resume" in stderr
    stopped = load_checkpoint(tmp_path / "sig" / "last.pt").train_state["step"]
    assert 20 <= stopped < 100000

    # Resume with a shorter run so it finishes: --iters cannot change on resume, so edit nothing and
    # check instead that a resumed process starts at the stored step and keeps the same folder.
    resumed = subprocess.Popen(
        [sys.executable, "-m", "kocr", "train", "--resume", str(tmp_path / "sig" / "last.pt")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(read_log(tmp_path / "sig")) < 3:
        time.sleep(0.5)
    resumed.send_signal(signal.SIGINT)
    resumed.communicate(timeout=120)
    rows = read_log(tmp_path / "sig")
    steps = [int(r["step"]) for r in rows if r["loss"]]
    assert steps == sorted(steps) and steps[-1] > stopped  # the log continues, it does not restart
    assert load_checkpoint(tmp_path / "sig" / "last.pt").train_state["step"] > stopped
    assert [p.name for p in tmp_path.iterdir()] == ["sig"]


def test_finetune_to_a_new_charset_keeps_shared_rows(
    tiny_model: Path, tiny_task: dict[str, Path], tmp_path: Path
) -> None:
    result = run_kocr(
        "finetune",
        "--saved-model",
        tiny_model,
        "--train-data",
        tiny_task["train"],
        "--valid-data",
        tiny_task["valid"],
        "--charset",
        "ko-2350",
        "--iters",
        "3",
        "--batch-size",
        "8",
        "--workers",
        "0",
        "--output",
        tmp_path,
        "--name",
        "ft",
        "--freeze-features",
    )
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert "kept the trained weights of 15 symbols" in result.stdout + result.stderr
    checkpoint = load_checkpoint(tmp_path / "ft" / "last.pt")
    assert checkpoint.charset.name == "ko-2350"
    assert checkpoint.train_config["lr"] == pytest.approx(1e-4)  # a tenth of training's default

    # The command an interrupted fine-tune suggests works without repeating --saved-model.
    resumed = run_kocr("finetune", "--resume", tmp_path / "ft" / "last.pt", "--workers", "0")
    assert resumed.returncode == 0, resumed.stderr
    assert "run folder" in resumed.stdout and "ft" in resumed.stdout
    assert not (tmp_path / "ft-2").exists()
    neither = run_kocr("finetune", "--train-data", tiny_task["train"])
    assert neither.returncode == 2 and "--saved-model" in neither.stderr
    assert_no_traceback(neither)


def test_train_cli_reports_bad_input_cleanly(tmp_path: Path) -> None:
    missing = run_kocr("train", "--train-data", tmp_path / "nope", "--output", tmp_path)
    assert (
        missing.returncode == 2
        and "no such file or folder" in missing.stderr
        and "--train-data" in missing.stderr
    )
    assert_no_traceback(missing)
    not_a_checkpoint = tmp_path / "model.pt"
    not_a_checkpoint.write_text("hello", encoding="utf-8")
    bad = run_kocr("finetune", "--saved-model", not_a_checkpoint, "--train-data", tmp_path)
    assert bad.returncode == 2 and str(not_a_checkpoint) in bad.stderr
    assert_no_traceback(bad)


@pytest.mark.skipif(
    shutil.which("torchrun") is None and not (Path(sys.executable).parent / "torchrun").exists(),
    reason="torchrun not installed",
)
def test_torchrun_two_cpu_processes_write_one_checkpoint(tiny_task: dict[str, Path], tmp_path: Path) -> None:
    torchrun = Path(sys.executable).parent / "torchrun"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), COLUMNS="200", OMP_NUM_THREADS="1")
    result = subprocess.run(
        [
            str(torchrun if torchrun.exists() else "torchrun"),
            "--nproc_per_node",
            "2",
            "--master_port",
            "29533",
            "-m",
            "kocr",
            "train",
            "--train-data",
            str(tiny_task["train"]),
            "--valid-data",
            str(tiny_task["valid"]),
            "--charset",
            str(tiny_task["charset"]),
            "--model",
            "vgg-bilstm-ctc-small",
            "--iters",
            "20",
            "--batch-size",
            "8",
            "--valid-every",
            "10",
            "--workers",
            "0",
            "--output",
            str(tmp_path),
            "--name",
            "ddp",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert [p.name for p in tmp_path.iterdir()] == ["ddp"]
    checkpoint = load_checkpoint(tmp_path / "ddp" / "last.pt")
    assert checkpoint.train_state["step"] == 20
    assert checkpoint.metrics["samples"] == 100  # both ranks' validation shards were summed


# --- issue 15 ---------------------------------------------------------------------------------------


def test_resume_with_augmentation_is_bit_for_bit(tiny_task: dict[str, Path], tmp_path: Path) -> None:
    """Defect 9: augmentation drew from a generator that restarted at its seed on resume (1.78 apart
    after 80 steps). Keys per sample (seed, epoch, draw) make it independent of resumes and workers:
    the interrupted run even reads with two worker processes, the others with none."""
    changes = dict(iters=32, valid_every=1000, log_every=8, augment=True, name="run")
    straight = Trainer(tiny_train_config(tiny_task, tmp_path / "a", **changes)).run()

    # Stopped mid-epoch (25 steps per epoch): the resume crosses an epoch boundary.
    last = run_stopped(tiny_task, tmp_path / "b", 16, **{**changes, "workers": 2}).run_dir / "last.pt"
    resumed = Trainer(tiny_train_config(tiny_task, tmp_path / "b", **changes, resume=str(last))).run()
    assert resumed.step == 32
    a, b = load_checkpoint(straight.run_dir / "last.pt"), load_checkpoint(last)
    for key, value in a.state_dict.items():
        assert torch.equal(value, b.state_dict[key]), key
    # and augmentation really was on: a run without it ends elsewhere
    plain = Trainer(tiny_train_config(tiny_task, tmp_path / "c", **{**changes, "augment": False})).run()
    c = load_checkpoint(plain.run_dir / "last.pt")
    assert any(not torch.equal(v, c.state_dict[k]) for k, v in a.state_dict.items())


def test_resume_honours_iters_and_refuses_what_cannot_change(
    tiny_task: dict[str, Path], tmp_path: Path
) -> None:
    """Defect 8: --resume dropped every option but workers/device/amp; --iters 70 ran on to the old 200,
    and a finished run resumed with more --iters did nothing."""
    from kocr.training.optim import build_optimizer, build_scheduler

    changes = dict(iters=40, valid_every=1000, log_every=5, name="run")
    last = run_stopped(tiny_task, tmp_path, 10, **changes).run_dir / "last.pt"

    shorter = Trainer(
        tiny_train_config(tiny_task, tmp_path, **{**changes, "iters": 20}, resume=str(last))
    ).run()
    assert shorter.step == 20 and load_checkpoint(last).train_config["iters"] == 20
    assert load_checkpoint(last).train_state["scheduler"]["total_steps"] == 21  # the schedule of 20 steps

    messages: list[str] = []

    class Notes(LogReporter):
        def message(self, text: str) -> None:
            messages.append(text)

    longer = Trainer(
        tiny_train_config(tiny_task, tmp_path, **{**changes, "iters": 30}, resume=str(last)), Notes()
    )
    assert longer.run().step == 30 and any("now ends at step 30" in m for m in messages), messages
    saved = load_checkpoint(last).train_state
    # The learning rate followed a 30-step one-cycle schedule from step 20 on (a warm restart).
    reference = build_optimizer("adamw", [torch.nn.Parameter(torch.zeros(1))], 3e-3)
    schedule = build_scheduler("onecycle", reference, 30)
    for _ in range(30):
        reference.step()
        schedule.step()
    assert saved["scheduler"]["_last_lr"][0] == pytest.approx(schedule.get_last_lr()[0])

    for field, value in (("batch_size", 16), ("lr", 1e-2), ("train_data", [str(tiny_task["valid"])])):
        refused = Trainer(
            tiny_train_config(tiny_task, tmp_path, **{**changes, field: value}, resume=str(last))
        )
        with pytest.raises(KocrError, match=f"--{field.replace('_', '-')}"):
            refused.run()
    with pytest.raises(KocrError, match="already at step 30"):
        Trainer(tiny_train_config(tiny_task, tmp_path, **{**changes, "iters": 25}, resume=str(last))).run()

    # The CLI compares only the options typed: the stored run's own values stand for the rest.
    cli = run_kocr("train", "--resume", last, "--iters", "32", "--workers", "0", "--device", "cpu")
    assert cli.returncode == 0, cli.stderr
    assert load_checkpoint(last).train_state["step"] == 32
    typed = run_kocr("train", "--resume", last, "--batch-size", "16", "--iters", "40")
    assert typed.returncode == 2 and "--batch-size" in typed.stderr and "32 in the run" in typed.stderr
    assert_no_traceback(typed)


def test_finetune_trains_and_names_the_saved_model_and_refuses_another(
    tiny_model: Path, tiny_task: dict[str, Path], tmp_path: Path
) -> None:
    """Defect 7: a CRNN fine-tune made runs/tps-resnet-bilstm-ctc-ko and recorded that model;
    --model parseq was silently ignored."""
    import json

    common = [
        "--saved-model",
        tiny_model,
        "--train-data",
        tiny_task["train"],
        "--valid-data",
        tiny_task["valid"],
    ]
    common += ["--iters", "1", "--batch-size", "8", "--workers", "0", "--output", tmp_path]
    result = run_kocr("finetune", *common)
    assert result.returncode == 0, result.stderr
    run_dir = next(tmp_path.iterdir())
    assert run_dir.name.startswith("vgg-bilstm-ctc-small-"), run_dir.name  # not tps-resnet-bilstm-ctc-...
    record = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    assert record["train"]["model"] == "vgg-bilstm-ctc-small" == record["model"]["name"]
    assert load_checkpoint(run_dir / "last.pt").train_config["model"] == "vgg-bilstm-ctc-small"
    same = run_kocr("finetune", *common, "--model", "vgg-bilstm-ctc-small", "--name", "same")
    assert same.returncode == 0, same.stderr
    other = run_kocr("finetune", *common, "--model", "parseq", "--name", "other")
    assert (
        other.returncode == 2 and "--model parseq" in other.stderr and "vgg-bilstm-ctc-small" in other.stderr
    )
    assert_no_traceback(other)
    assert not (tmp_path / "other").exists()


def test_finetune_adds_a_jamo_head_and_packaging_drops_it(
    tiny_model: Path, tiny_task: dict[str, Path], tmp_path: Path
) -> None:
    result = run_kocr(
        "finetune", "--saved-model", tiny_model, "--train-data", tiny_task["train"],
        "--valid-data", tiny_task["valid"], "--iters", "2", "--batch-size", "8", "--workers", "0",
        "--output", tmp_path, "--name", "jamo", "--jamo-head", "0.5",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    tuned = load_checkpoint(tmp_path / "jamo" / "last.pt")
    assert tuned.model_config["jamo_head"] == 0.5 and "JamoPrediction.weight" in tuned.state_dict
    start = load_checkpoint(tiny_model).state_dict
    assert "JamoPrediction.weight" not in start  # the head was added, every other tensor carried over
    assert set(tuned.state_dict) - set(start) == {"JamoPrediction.weight", "JamoPrediction.bias"}

    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    try:
        from package_default import without_training_heads
    finally:
        sys.path.remove(str(REPO_ROOT / "scripts"))
    model = tuned.build_model().eval()
    slim = without_training_heads(model).eval()
    assert slim.config["jamo_head"] == 0.0 and not any(k.startswith("Jamo") for k in slim.state_dict())
    images = torch.randn(2, 1, 32, 96)
    with torch.no_grad():
        assert torch.equal(model(images), slim(images))


# --- issue 24 ---------------------------------------------------------------------------------------


def test_resume_from_best_or_an_older_copy_is_refused_and_the_run_kept(
    tiny_task: dict[str, Path], tmp_path: Path
) -> None:
    """Defect 1: `--resume RUN/best.pt --iters N` rewound a run at step 80 to 10 and replaced last.pt."""
    changes = dict(iters=20, valid_every=10, log_every=5, name="run")
    run_dir = run_stopped(tiny_task, tmp_path, 10, **changes).run_dir
    shutil.copy(run_dir / "last.pt", run_dir / "step10.pt")
    shutil.copy(run_dir / "last.pt", run_dir / "best.pt")  # best validation at step 10, as it may be
    finished = Trainer(tiny_train_config(tiny_task, tmp_path, **changes, resume=str(run_dir / "last.pt")))
    assert finished.run().step == 20
    snapshot = {p.name: p.read_bytes() for p in run_dir.iterdir()}

    for older in ("best.pt", "step10.pt"):
        result = run_kocr(
            "train", "--resume", run_dir / older, "--iters", "30", "--workers", "0", "--device", "cpu"
        )
        assert result.returncode == 2, result.stderr
        assert_no_traceback(result)
        message = " ".join(result.stderr.split())
        assert f"{older}: this checkpoint is at step 10" in message and "at step 20" in message
        assert "last.pt" in message and "kocr finetune --saved-model" in message
        with pytest.raises(KocrError, match="would rewind the run"):
            Trainer(tiny_train_config(tiny_task, tmp_path, **changes, resume=str(run_dir / older))).run()
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == snapshot
    assert load_checkpoint(run_dir / "last.pt").train_state["step"] == 20

    # A copy of the latest state (here: last.pt saved as best.pt at the final step) still resumes.
    shutil.copy(run_dir / "last.pt", run_dir / "best.pt")
    extended = run_kocr("train", "--resume", run_dir / "best.pt", "--iters", "25", "--workers", "0")
    assert extended.returncode == 0, extended.stderr
    assert load_checkpoint(run_dir / "last.pt").train_state["step"] == 25


def test_a_refused_resume_names_the_option_given(tiny_task: dict[str, Path], tmp_path: Path) -> None:
    """Defect 6: `--resume RUN/last.pt --jamo-head 0` blamed --saved-charset (both live in one field)."""
    changes = dict(iters=20, valid_every=1000, log_every=5, name="run")
    last = run_stopped(tiny_task, tmp_path, 5, **changes).run_dir / "last.pt"
    for option, value in (("--jamo-head", "0"), ("--saved-charset", "ko")):
        result = run_kocr("train", "--resume", last, option, value, "--workers", "0")
        assert result.returncode == 2, result.stderr
        assert f"so {option} (not set in the run, " in result.stderr, result.stderr
        other = "--saved-charset" if option == "--jamo-head" else "--jamo-head"
        assert other not in result.stderr
        assert_no_traceback(result)
    assert load_checkpoint(last).train_state["step"] == 5
