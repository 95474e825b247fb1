"""Seeded, randomly initialised checkpoints for benchmarks whose figures do not depend on training
(speed, FLOPs, agreement between two programs), so they run without a trained model at hand.

torch loads inside each function: benchmarks set ``OMP_WAIT_POLICY`` before torch starts OpenMP.
"""

from __future__ import annotations

from pathlib import Path


def clovaai_trbc(folder: Path, symbols: int = 2417, seed: int = 0) -> tuple[Path, Path]:
    """A TPS-ResNet-BiLSTM-CTC checkpoint in clovaai's format (DataParallel ``module.`` keys) over the
    first ``symbols`` symbols of ko-2350, and its one-line ``--character`` file, written to ``folder``."""
    import torch

    from kocr.charsets import Charset
    from kocr.models import create_model

    characters = "".join(list(Charset.preset("ko-2350"))[:symbols])
    torch.manual_seed(seed)
    model = create_model("tps-resnet-bilstm-ctc", len(characters) + 1)
    state = {
        f"module.{key}": value for key, value in model.state_dict().items() if "JamoPrediction" not in key
    }
    checkpoint = folder / "best_accuracy.pth"
    torch.save(state, checkpoint)
    charset = folder / "opt_character.txt"
    charset.write_text(characters + "\n", encoding="utf-8")
    return checkpoint, charset


def untrained_crnn(folder: Path, seed: int = 0) -> Path:
    """An untrained vgg-bilstm-ctc-small for ko-2350, saved to ``folder`` as kocr training saves it."""
    import torch

    from kocr.charsets import Charset
    from kocr.checkpoints import save_checkpoint
    from kocr.data.transforms import Preprocess
    from kocr.models import create_model, num_classes_for_charset

    charset = Charset.load("ko-2350")
    torch.manual_seed(seed)
    model = create_model("vgg-bilstm-ctc-small", num_classes_for_charset(len(charset)))
    cfg = model.config
    preprocess = Preprocess(height=cfg["img_h"], width=cfg["img_w"], channels=cfg["input_channel"])
    return save_checkpoint(
        folder / "untrained.pt", model=model, charset=charset, preprocess=preprocess.to_dict()
    )
