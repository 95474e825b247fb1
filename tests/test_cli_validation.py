"""Every option of every command is checked before any work starts (issue 15).

The walk below visits each option and argument of each command of the built CLI and gives it bad values
chosen by what the option is (a count below its minimum, a bad name for a choice, a path that does not
exist, a device torch does not know...). Each must end in exit code 2 with one ``error:`` line naming
the option, and no traceback. A new option that takes a value must either be checked or be listed in
:data:`ANY_VALUE` with the reason any value is fine, or this test fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kocr.cli import get_command, main
from kocr.commands import _validate
from kocr.decoding.settings import RANGES

#: (command path, option name) → why any value is acceptable.
ANY_VALUE = {
    ("data synth", "handwriting"): "an fnmatch pattern: any text is one",
    ("data fonts", "handwriting"): "an fnmatch pattern: any text is one",
    ("export", "samples"): "images, folders or globs: missing ones are skipped like predict's",
    ("predict", "paths"): "images, folders or globs: missing ones are skipped (tested below)",
}
#: Values that are wrong whatever the command, by validator.
BAD_BY_CALLBACK: dict[Any, list[str]] = {
    _validate.device: ["tpu", "gpu", "cuda:x"],
    _validate.charset: ["no-such-charset"],
    _validate.checkpoint: ["missing.pt"],
    _validate.lm_file: ["missing.lm"],
    _validate.confidence_scaling: ["0.5", "0,1", "x,1", "1,inf"],
    _validate.model_name: ["no-such-model"],
    _validate.dataset_paths: ["no/such/data", "synth:no-such-recipe.toml"],
    _validate.positive_float: ["0", "-1", "nan"],
    _validate.non_negative_float: ["-1", "inf"],
    _validate.fraction: ["1.5", "-0.1"],
    _validate.mixing_ratios: ["0.5,x", "0,0", "-1,2", "0.5,0.6", "0.7,0"],
    _validate.split_ratios: ["0.4,0.3,0.2,0.1", "1", "0.8,0.3", "1,0", "0.5,0.5,0"],
    _validate.folder_name: ["a/b", ".."],
    _validate.image_file: ["sheet"],
}
BAD_BY_OPTION = {
    "text_mix": ["bogus=1", "words=-1", "words=nan", "words=inf"],
    "types": ["bogus"],
    "page_size": ["600", "0x800", "ax8"],
}


def leaf_commands(command: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    subcommands = getattr(command, "commands", {})
    if not subcommands:
        yield path.strip(), command
    for name, sub in subcommands.items():
        yield from leaf_commands(sub, f"{path} {name}")


def bad_values(param: Any, file: Path) -> list[str]:
    """Values ``param`` must refuse (empty: the parameter takes no value, or any value)."""
    if getattr(param, "is_flag", False) or param.name in ("help", "version"):
        return []
    callback = getattr(getattr(param, "callback", None), "__wrapped__", None) or getattr(
        param, "callback", None
    )
    values: list[str] = []
    if callback in BAD_BY_CALLBACK:
        values += BAD_BY_CALLBACK[callback]
    elif callback in (_validate.output_path, _validate.output_file, _validate.output_folder):
        values.append(str(file / "inside-a-file"))
        if callback is _validate.output_file:
            values.append(str(file.parent))  # a folder where a file goes
        elif callback is _validate.output_folder:
            values.append(str(file))  # a file where a folder goes
    elif getattr(callback, "choices", None):
        values.append("bogus-choice")
    elif getattr(callback, "setting", None):  # a decoding setting: just past each end of its range
        bounds = RANGES[callback.setting]
        values += [
            f"{bound - 1 if bound == bounds.low else bound + 1:g}" for bound in (bounds.low, bounds.high)
        ]
    elif param.name in BAD_BY_OPTION:
        values += BAD_BY_OPTION[param.name]
    info = getattr(getattr(param, "type_descriptor", None), "parameter_info", None)
    if getattr(info, "exists", False) or getattr(getattr(param, "type", None), "exists", False):
        values.append("no/such/path")
    minimum = getattr(param, "min", None)
    if minimum is not None:
        values.append(str(minimum - 1))
    annotation = str(getattr(getattr(param, "type_descriptor", None), "annotation", ""))
    if "int" in annotation and "Path" not in annotation:
        values.append("many")
    if "float" in annotation:
        values += ["lots", "nan", "inf", "-inf"]  # every float option: a finite number, or an error
    return values


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out + captured.err


def invalid_cases(file: Path) -> Iterator[tuple[str, Any, list[str]]]:
    for path, command in leaf_commands(get_command()):
        for param in command.params:
            values = bad_values(param, file)
            if not values:
                continue
            for value in values:
                if param.param_type_name == "argument":
                    yield path, param, [value]
                else:
                    yield path, param, [param.opts[0], value]


def test_every_option_of_every_command_refuses_bad_values_before_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a command that wrongly starts writes nothing into the checkout
    file = tmp_path / "a-file.txt"
    file.write_text("x", encoding="utf-8")
    checked: set[tuple[str, str]] = set()
    failures = []
    for path, param, tail in invalid_cases(file):
        code, output = run_main([*path.split(), *tail], capsys)
        shown = param.opts[0] if param.param_type_name == "option" else param.metavar or param.name
        if code != 2 or "Traceback" in output or shown not in output or "error:" not in output:
            failures.append(f"kocr {path} {' '.join(tail)} → exit {code}: {output.strip()[-300:]}")
        checked.add((path, param.name))
        assert not (tmp_path / "runs").exists()
    assert not failures, "\n".join(failures)
    # Coverage: every parameter that takes a value was given bad ones, or is listed as taking any.
    unchecked = [
        f"{path} {param.name}"
        for path, command in leaf_commands(get_command())
        for param in command.params
        if not getattr(param, "is_flag", False)
        and param.name not in ("help", "version")
        and (path, param.name) not in checked
        and (path, param.name) not in ANY_VALUE
    ]
    assert not unchecked, f"options nothing checks (validate them or list them in ANY_VALUE): {unchecked}"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        # defect 1: one dataset, two ratios; and ratios that are all zero
        (["train", "-t", "{lmdb}", "--ratios", "0.5,0.5"], "--ratios"),
        (["train", "-t", "{lmdb}", "--ratios", "0,0"], "--ratios"),
        (["train", "-t", "{lmdb}", "-t", "{lmdb}", "--ratios", "1"], "--ratios"),
        # defect 2: bad devices, in each command that takes one
        (["predict", "{file}", "--device", "tpu"], "--device"),
        (["eval", "-d", "{lmdb}", "--device", "gpu"], "--device"),
        (["train", "-t", "{lmdb}", "--device", "cuda:x"], "--device"),
        # bounds that involve two options
        (["data", "synth", "-o", "out", "--min-chars", "9", "--max-chars", "3"], "--min-chars"),
        (["data", "synth", "-o", "out", "--system-fonts", "--no-system-fonts"], "--system-fonts"),
        # a page set refuses the options that shape lines, and a page size needs pages
        (["data", "synth", "-o", "out", "--pages", "2", "--num", "5"], "--num"),
        (["data", "synth", "-o", "out", "--pages", "2", "--format", "images"], "--format"),
        (["data", "synth", "-o", "out", "--page-size", "600x800"], "--page-size"),
        # --onnx runs the exported file alone: -m or --charset with it is an error, not ignored
        (["predict", "{file}", "--onnx", "{file}", "-m", "{file}"], "--saved-model"),
        (["predict", "{file}", "--onnx", "{file}", "--charset", "ko"], "--charset"),
        # defect 3: a preview name without a format is refused before the LMDB is written
        (["data", "synth", "-o", "out", "--num", "5", "--preview", "sheet"], "--preview"),
    ],
)
def test_options_checked_together_fail_cleanly(
    args: list[str],
    named: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lmdb").mkdir()
    (tmp_path / "lmdb" / "data.mdb").write_bytes(b"")
    (tmp_path / "a.png").write_bytes(b"")
    filled = [a.format(lmdb=tmp_path / "lmdb", file=tmp_path / "a.png") for a in args]
    code, output = run_main(filled, capsys)
    assert code == 2 and "Traceback" not in output, output
    assert named in output and output.strip().startswith("error:"), output
    assert len(output.strip().splitlines()) == 1, output  # one line
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()


# --- issue 24: contradictory options, declared once in kocr.commands._conflicts ------------------------

#: Arguments that set one option as a conflict row needs it, by (command, parameter).
_SET = {
    "onnx": ["--onnx", "{onnx}"],
    "charset": ["--charset", "ko"],
    "engine": ["--engine", "torch"],
    "decoder": ["--decoder", "greedy"],
    "beam_width": ["--beam-width", "4"],
    "lm_weight": ["--lm-weight", "0.5"],
    "length_bonus": ["--length-bonus", "1"],
    "line_finder": ["--line-finder", "ppocr"],
    "confusions": ["--confusions"],
    "ignore_space": ["--ignore-space"],
    "case_sensitive": ["--ignore-case"],
    "image_root": ["--image-root", "{dir}"],
    "iters": ["--iters", "10"],
    "epochs": ["--epochs", "2"],
    "saved_charset": ["--saved-charset", "ko"],
    "freeze_features": ["--freeze-features"],
    "recipe": ["--config", "{recipe}"],
    "fonts": ["--fonts", "{dir}"],
    "font_files": ["--font", "{file}"],
    "system_fonts": ["--system-fonts"],
    "no_system_fonts": ["--no-system-fonts"],
    "corpus": ["--corpus", "{file}"],
    "text_mix": ["--text-mix", "words=1"],
    "handwriting": ["--handwriting-fonts", "Hand*"],
    "handwriting_ratio": ["--handwriting-ratio", "0.5"],
    "min_chars": ["--min-chars", "2"],
    "max_chars": ["--max-chars", "9"],
    "min_height": ["--min-height", "32"],
    "max_height": ["--max-height", "40"],
    "degrade": ["--degrade", "0.5"],
    "rgb": ["--rgb"],
    "num": ["--num", "5"],
    "fmt": ["--format", "images"],
    "preview": ["--preview", "sheet.png"],
    "pages": ["--pages", "2"],
    "page_size": ["--page-size", "600x800"],
}
_BASE = {
    "predict": ["predict", "{file}"],
    "eval": ["eval", "-d", "{lmdb}"],
    "train": ["train", "-t", "{lmdb}"],
    "finetune": ["finetune", "-t", "{lmdb}"],
    "data synth": ["data", "synth", "-o", "out"],
    "data fonts": ["data", "fonts"],
    "detector train": ["detector", "train"],
}
#: Rows whose condition needs more than both options set as above.
_SPECIAL = {
    ("predict", "onnx", "saved_model"): ["--onnx", "{onnx}", "-m", "{file}"],
    ("saved_model", "charset"): ["-m", "{onnx}", "--charset", "ko"],
    ("saved_model", "engine"): ["-m", "{onnx}", "--engine", "torch"],
    ("decoder", "lm"): ["--decoder", "greedy", "--lm", "{lm}"],
    ("lm", "lm_weight"): ["--lm", "none", "--lm-weight", "0.5"],
    ("layout", "line_finder"): ["--layout", "line", "--line-finder", "ppocr"],
    ("eval", "layout", "line_finder"): ["--line-finder", "ppocr"],  # eval reads lines by default
    ("layout", "pages_at_once"): ["--layout", "line", "--pages-at-once", "1"],
    ("eval", "layout", "pages_at_once"): ["--pages-at-once", "1"],
    ("summary_json", "log_file"): ["--summary-json", "same.json", "--log-file", "same.json"],
    ("saved_charset", "saved_model"): ["--saved-charset", "ko"],
    ("freeze_features", "saved_model"): ["--freeze-features"],
    ("page_size", "pages"): ["--page-size", "600x800"],
    ("detector", "line_finder"): ["--layout", "page", "--line-finder", "classical", "--detector", "{file}"],
    ("resume", "pages"): ["--resume", "{file}", "--pages", "{dir}"],
}


def _conflict_cases() -> Iterator[tuple[str, Any]]:
    from kocr.commands._conflicts import CONFLICTS

    for path, rows in CONFLICTS.items():
        for row in rows:
            yield path, row


def _args(path: str, row: Any) -> list[str]:
    special = _SPECIAL.get((path, row.first, row.second)) or _SPECIAL.get((row.first, row.second))
    if special is not None:
        return [*_BASE[path], *special]
    first = ["--layout", "page"] if row.first == "layout" else _SET[row.first]
    return [*_BASE[path], *first, *_SET[row.second]]


@pytest.mark.parametrize(
    ("path", "row"), list(_conflict_cases()), ids=[f"{p}:{r.first}+{r.second}" for p, r in _conflict_cases()]
)
def test_every_declared_conflict_is_one_error_naming_both_options(
    path: str, row: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 5: --charset with a kocr checkpoint, --decoder greedy with --lm, --onnx with --engine torch,
    data synth --config with --fonts, eval --summary-json F --log-file F were silently ignored."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lmdb").mkdir()
    (tmp_path / "lmdb" / "data.mdb").write_bytes(b"")
    for name in ("a.png", "model.onnx", "my.lm", "recipe.toml"):
        (tmp_path / name).write_bytes(b"")
    places = {
        "lmdb": tmp_path / "lmdb", "file": tmp_path / "a.png", "onnx": tmp_path / "model.onnx",
        "lm": tmp_path / "my.lm", "recipe": tmp_path / "recipe.toml", "dir": tmp_path / "lmdb",
    }  # fmt: skip
    filled = [a.format(**places) for a in _args(path, row)]
    code, output = run_main(filled, capsys)
    command = get_command()
    for part in path.split():
        command = command.commands[part]
    names = {p.name: [*p.opts, *p.secondary_opts] for p in command.params}  # --case-sensitive/--ignore-case
    assert code == 2 and output.strip().startswith("error:"), output
    assert len(output.strip().splitlines()) == 1 and "Traceback" not in output, output
    for option in (row.first, row.second):
        assert any(name.startswith("--") and name in output for name in names[option]), (option, output)
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()
    assert not (tmp_path / "same.json").exists() and not (tmp_path / "test_log.txt").exists()


# --- issue 24: train's and data split's --ratios follow one rule -------------------------------------


@pytest.mark.parametrize("ratios", ["0.5,0.6", "0.7,0.2", "1,0", "0.5,0.5,0"])
def test_train_and_split_refuse_the_same_ratios_the_same_way(
    ratios: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 8: `kocr train --ratios 0.5,0.6` was accepted where `kocr data split` refused it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lmdb").mkdir()
    (tmp_path / "lmdb" / "data.mdb").write_bytes(b"")
    (tmp_path / "gt.txt").write_text("a.png\t가\n", encoding="utf-8")
    sets = ["-t", str(tmp_path / "lmdb")] * len(ratios.split(","))
    messages = []
    for args in (
        ["train", *sets, "--ratios", ratios],
        ["data", "split", "gt.txt", "-o", "out", "--ratios", ratios],
    ):
        code, output = run_main(args, capsys)
        assert code == 2 and "--ratios" in output and "Traceback" not in output, output
        messages.append(output.split(":", 2)[-1].split("(see")[0].strip())
        assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()
    assert messages[0] == messages[1], messages


def test_train_ratios_that_add_up_to_one_pass_the_shared_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lmdb").mkdir()
    (tmp_path / "lmdb" / "data.mdb").write_bytes(b"")
    assert _validate.shares("0.7,0.3") == [0.7, 0.3] and _validate.shares("0.9,0.05,0.05", counts=(3,))
    # 0.7,0.3 is fine: what is left to refuse is their number against one --train-data set
    code, output = run_main(["train", "-t", tmp_path / "lmdb", "--ratios", "0.7,0.3"], capsys)
    assert code == 2 and "2 ratios for 1 --train-data set" in output, output
