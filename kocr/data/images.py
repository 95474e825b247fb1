"""Images in, PIL images out: which files are images, decoding them, converting their colour mode.

Every image kocr decodes passes one pixel limit (:func:`set_max_pixels`, ``--max-pixels``): an image
over it is unreadable, so batch commands report and skip it instead of decoding a decompression bomb.

Shared by prediction (:class:`kocr.Recognizer` takes paths, bytes, PIL images and numpy arrays), the
training datasets (:mod:`kocr.data.lmdb.dataset`, :mod:`kocr.data.sources`) and preprocessing
(:mod:`kocr.data.transforms`), so every path through kocr reads and converts an image the same way.

:class:`SkipUnreadable` is the datasets' common answer to an image that fails to decode mid-epoch.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from kocr.data import DEFAULT_MAX_PIXELS
from kocr.errors import InputFileError, KocrError

ImageInput = Any
"""What :func:`load_image` (and so ``Recognizer.predict``) takes: see :data:`ACCEPTED_IMAGE_INPUTS`."""
ACCEPTED_IMAGE_INPUTS = (
    "a path (str or os.PathLike), encoded image bytes (bytes, bytearray, memoryview), a binary file "
    "object (open(..., 'rb'), io.BytesIO), a PIL image, a numpy array or a torch.Tensor"
)
ImageMode = str | None  # "L", "RGB", or None: as stored
IMAGE_MODES = (None, "L", "RGB")
MAX_SKIP = 100  # a dataset gives up after this many unreadable samples in a row

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".pgm", ".ppm")
"""File suffixes kocr takes for images: folders given to ``predict`` are searched for them, and label files
whose first column ends in one are read as ``labels.txt``."""


# --- the pixel limit ---------------------------------------------------------------------------------

_max_pixels: int | None = DEFAULT_MAX_PIXELS


def max_pixels() -> int | None:
    """The most pixels an image kocr decodes may have (None: no limit); see :func:`set_max_pixels`."""
    return _max_pixels


def set_max_pixels(limit: int | None) -> None:
    """Set the one pixel limit for every image kocr decodes (prediction, evaluation, datasets, ``data
    lmdb``): an image with more pixels is an unreadable image, reported and skipped by batch commands,
    before it is decoded. None (or 0) lifts the limit. PIL's own guard, ``Image.MAX_IMAGE_PIXELS``, is set
    to the same value, so PIL never stops an image kocr allows; the default is
    :data:`kocr.data.DEFAULT_MAX_PIXELS` (180 MP), which kocr sets on import."""
    global _max_pixels
    if limit is not None and limit < 0:
        raise ValueError(f"the pixel limit must be positive (or None for no limit), not {limit}")
    _max_pixels = limit or None
    Image.MAX_IMAGE_PIXELS = _max_pixels


set_max_pixels(DEFAULT_MAX_PIXELS)


class ImageTooLargeError(Image.DecompressionBombError):
    """An image with more pixels than :func:`max_pixels` allows (PIL's own error type, so code that
    catches PIL's guard catches it too)."""


def check_pixels(width: int, height: int) -> None:
    """Raise :class:`ImageTooLargeError` when a ``width`` × ``height`` image is over the limit."""
    if _max_pixels is not None and width * height > _max_pixels:
        raise ImageTooLargeError(_too_large(f"{width:,}×{height:,} = {width * height:,} pixels"))


def _too_large(size: str) -> str:
    return (
        f"image too large ({size}, more than the limit of {_max_pixels or 0:,}); read it on purpose "
        "with --max-pixels (Python: kocr.data.images.set_max_pixels)"
    )


def _bomb_reason(exc: Exception) -> str:
    """PIL's DecompressionBombError in kocr's words (PIL stops images over twice its limit itself)."""
    if isinstance(exc, ImageTooLargeError):
        return str(exc)
    found = re.search(r"\((\d+) pixels\)", str(exc))
    return _too_large(f"{int(found.group(1)):,} pixels" if found else "over the pixel limit")


# --- decoding --------------------------------------------------------------------------------------


def load_image(source: ImageInput) -> Image.Image:
    """A PIL image from any of :data:`ACCEPTED_IMAGE_INPUTS`.

    - paths and file objects are decoded with PIL; unreadable files raise :class:`InputFileError` naming
      the file; bytes, ``bytearray`` and ``memoryview`` hold an encoded image (PNG, JPEG, ...);
    - numpy arrays are H×W, H×W×1, H×W×3 or H×W×4, uint8, uint16 (scaled to 8 bit) or float;
    - torch tensors are laid out as torchvision does, [C, H, W] with C = 1, 3 or 4 (or [H, W]), uint8
      or float, on any device;
    - float arrays and tensors may hold either scale their users meet: [0, 1] (torchvision's
      ``ToTensor``, scikit-image) or 0–255 (``np.asarray(pil_image, dtype=np.float32)``,
      ``torch.from_numpy(...).float()``), as PIL's own float images do; the largest value tells them
      apart (above 1.5: 0–255; the overshoot resampling leaves around [0, 1] stays [0, 1]). Values below
      -0.5 or above 255.5 (a mean/std-normalised tensor) are an error saying which scales are read;
    - an array or tensor holding NaN or infinity is an error (it is no image), and anything else (None,
      a number, a dict) is a :class:`TypeError` naming the accepted types.
    """
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, np.ndarray):
        return _from_array(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return decode_image(bytes(source), "<bytes>")
    if isinstance(source, (str, os.PathLike)):
        return _open(source, str(source))
    if _is_tensor(source):
        return _from_tensor(source)
    if callable(getattr(source, "read", None)):
        name = str(getattr(source, "name", "<file object>"))
        data = source.read()
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(
                f"{name}: file objects must be opened in binary mode ('rb'), got {type(data).__name__}"
            )
        return decode_image(bytes(data), name)
    raise TypeError(f"cannot read an image from {type(source).__name__}; expected {ACCEPTED_IMAGE_INPUTS}")


def canonical_image_path(image: str | os.PathLike[str]) -> str:
    """One string per image file, however its path is spelled (``a/../x.png`` is ``x.png``): how the
    data tools tell that an image is listed twice."""
    return os.path.normcase(os.path.abspath(image))


def is_image_input(value: Any) -> bool:
    """Whether ``value`` is one image (as opposed to a list of them) for :func:`load_image`."""
    return (
        isinstance(value, (str, os.PathLike, Image.Image, np.ndarray, bytes, bytearray, memoryview))
        or _is_tensor(value)
        or callable(getattr(value, "read", None))
    )


def as_image_list(images: Any) -> tuple[bool, list[Any]]:
    """(single?, the images as a list): one image, or a list/tuple/iterator of them; anything else is
    a :class:`TypeError` naming what is accepted (a dict or a set is no list of images)."""
    if is_image_input(images):
        return True, [images]
    if isinstance(images, (list, tuple)) or (
        isinstance(images, Iterable)
        and not isinstance(images, (dict, set, frozenset))
        and hasattr(images, "__next__")
    ):
        return False, list(images)
    raise TypeError(
        f"cannot read images from {type(images).__name__}; expected one image ({ACCEPTED_IMAGE_INPUTS}) "
        "or a list of them"
    )


def decode_image(data: bytes, name: str) -> Image.Image:
    """A PIL image from encoded bytes (an LMDB value, say); errors name ``name``."""
    return _open(io.BytesIO(data), name)


def decode_bytes(data: bytes) -> Image.Image:
    """Decode encoded image bytes (no file handle to close: the bytes are ours); PIL's errors propagate,
    and an image over the pixel limit raises :class:`ImageTooLargeError`."""
    image = Image.open(io.BytesIO(data))
    check_pixels(*image.size)
    image.load()
    return image


def verify_image(file: Any) -> tuple[int, int]:
    """Decode a file (path or file object) fully to prove it readable, keeping nothing: its size.
    PIL's errors propagate; an image over the pixel limit raises :class:`ImageTooLargeError`."""
    with Image.open(file) as opened:
        check_pixels(*opened.size)
        opened.load()
        return opened.size


def image_error(exc: Exception) -> str:
    """Why PIL could not decode an image, in words (for skip lists and dataset warnings)."""
    if isinstance(exc, UnidentifiedImageError):  # its message names a BytesIO object, not the file
        return "not a readable image (unknown format or not an image)"
    if isinstance(exc, Image.DecompressionBombError):
        return _bomb_reason(exc)
    return f"not a readable image ({_short(exc)})"


def _short(exc: BaseException, width: int = 120) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= width else text[: width - 1] + "…"


def open_image(file: Any) -> Image.Image:
    """Decode a file (path or file object) fully and let go of it: the image holds no open handle. An
    image over the pixel limit (:func:`set_max_pixels`) raises :class:`ImageTooLargeError`."""
    with Image.open(file) as opened:
        check_pixels(*opened.size)
        opened.load()
        return opened.copy()


def _open(file: Any, name: str) -> Image.Image:
    try:
        return open_image(file)
    except FileNotFoundError:
        raise InputFileError(name, "image not found") from None
    except IsADirectoryError:
        raise InputFileError(name, "is a folder, not an image") from None
    except UnidentifiedImageError:
        raise InputFileError(name, "not a readable image (unknown format or corrupt data)") from None
    except Image.DecompressionBombError as exc:
        raise InputFileError(name, _bomb_reason(exc)) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise InputFileError(name, f"not a readable image ({exc})") from None


def _is_tensor(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and callable(getattr(value, "detach", None))


def _from_tensor(tensor: Any) -> Image.Image:
    """A torchvision-layout tensor ([C, H, W] or [H, W]) as a PIL image, through :func:`_from_array`."""
    values = tensor.detach().cpu()
    if values.is_floating_point():
        values = values.float()  # half and bfloat16 have no numpy twin
    array = values.numpy()
    if array.ndim == 3 and array.shape[0] in (1, 3, 4):
        array = array.transpose(1, 2, 0)
    elif array.ndim != 2:
        raise KocrError(
            f"expected a [C, H, W] (C = 1, 3 or 4) or [H, W] tensor, got shape {tuple(tensor.shape)}"
        )
    return _from_array(np.ascontiguousarray(array))


def _from_array(array: np.ndarray) -> Image.Image:
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        bad = "only NaN" if np.isnan(array).all() else "NaN or infinite values"
        raise KocrError(f"the image array holds {bad}; expected numbers in {FLOAT_SCALES}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise KocrError(f"expected an H×W, H×W×3 or H×W×4 array, got shape {array.shape}")
    if array.dtype == np.uint16:
        array = (array.astype(np.float32) / 257.0).round().astype(np.uint8)
    elif np.issubdtype(array.dtype, np.floating):
        array = float_to_8bit(array)
    elif array.dtype != np.uint8:
        raise KocrError(f"unsupported array dtype {array.dtype}; use uint8, uint16 or float")
    return Image.fromarray(array)


FLOAT_SCALES = (
    "[0, 1] (as torchvision's ToTensor gives) or 0-255 (as np.asarray(pil_image, dtype=float) gives)"
)


def float_to_8bit(values: np.ndarray) -> np.ndarray:
    """Float pixels as uint8, whichever scale they use (see :func:`load_image`): [0, 1] times 255, or
    0–255 as they are, told apart by the largest value; a KocrError for values in neither."""
    if not values.size:
        return values.astype(np.uint8)
    low, high = float(values.min()), float(values.max())
    if low < -0.5 or high > 255.5:
        hint = "; it looks normalised (mean/std): undo that first" if low < -0.5 else ""
        raise KocrError(
            f"a float image holds values from {low:g} to {high:g}; kocr reads {FLOAT_SCALES}{hint}"
        )
    scale = 255.0 if high <= 1.5 else 1.0
    return np.clip(np.rint(values.astype(np.float64) * scale), 0, 255).astype(np.uint8)


def iter_image_files(
    paths: Iterable[str | os.PathLike[str]],
    *,
    recursive: bool = False,
    on_missing: Callable[[InputFileError], None] | None = None,
) -> list[tuple[Path, str]]:
    """(file, name to show) for images named directly, in folders (``recursive`` walks subfolders) or by
    glob patterns. Sorted within each folder.

    ``recursive`` follows symbolic links to folders, as ``cp -rL`` and ``grep -R`` do, each real folder
    read once: a link to a folder read already (a second way in, or a loop back up) adds nothing, and a
    folder and a link to it are read under the folder's own name.

    Names tell the files apart: with one argument they are relative to it (``kocr predict scans/`` shows
    ``a.png``), with several they start with the argument as given (``twoA/x.png``, ``twoB/x.png``). A
    path that does not exist, or an image name whose link leads nowhere, raises :class:`InputFileError`,
    or goes to ``on_missing`` and is skipped.
    """
    import glob

    items = list(paths)
    prefixed = len(items) > 1
    found: list[tuple[Path, str]] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            files, broken = _folder_images(path, recursive)
            for link in broken:
                error = InputFileError(link, "a link to nothing (its target does not exist)")
                if on_missing is None:
                    raise error
                on_missing(error)
            found.extend(
                (p, (path / p.relative_to(path)).as_posix() if prefixed else p.relative_to(path).as_posix())
                for p in files
            )
        elif path.exists():
            found.append((path, path.name if path.is_absolute() and not prefixed else path.as_posix()))
        elif glob.has_magic(str(item)):
            matches = sorted(Path(p) for p in glob.glob(str(item), recursive=recursive))
            found.extend((p, p.as_posix()) for p in matches if p.is_file())
        else:
            error = InputFileError(path, "no such file or folder")
            if on_missing is None:
                raise error
            on_missing(error)
    return found


def _folder_images(folder: Path, recursive: bool) -> tuple[list[Path], list[Path]]:
    """(image files, broken links named like images) in ``folder``, and with ``recursive`` below it:
    real subfolders first, then the folders symbolic links lead to that were not read yet, each real
    folder once (by device and inode), so a link loop ends."""
    files: list[Path] = []
    broken: list[Path] = []
    seen: set[tuple[int, int]] = set()
    links: list[Path] = []
    pending = [folder]
    while pending or links:
        directory = pending.pop() if pending else links.pop(0)
        try:
            status = directory.stat()
            entries = list(os.scandir(directory))
        except OSError:
            continue  # vanished or unreadable: nothing to list
        if (status.st_dev, status.st_ino) in seen:
            continue
        seen.add((status.st_dev, status.st_ino))
        for entry in entries:
            path = Path(entry.path)
            if entry.is_dir():  # follows links
                if recursive:
                    (links if entry.is_symlink() else pending).append(path)
            elif path.suffix.lower() in IMAGE_SUFFIXES:
                if entry.is_file():
                    files.append(path)
                elif entry.is_symlink() and not path.exists():
                    broken.append(path)
    return sorted(files), sorted(broken)


# --- colour ----------------------------------------------------------------------------------------


def _composite_on_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def _to_8bit(image: Image.Image) -> Image.Image:
    """16-bit and 32-bit integer or float greyscale to ``L``, scaled rather than clipped."""
    pixels = np.asarray(image)
    if image.mode.startswith("I;16"):
        scaled = pixels.astype(np.float64) / 257.0
    elif image.mode == "F":
        return Image.fromarray(float_to_8bit(pixels), mode="L")
    else:  # "I": PIL used it for 16-bit PNGs before 10.x; 8-bit data stays as is
        top = int(pixels.max()) if pixels.size else 0
        scaled = pixels / 257.0 if top > 255 else pixels.astype(np.float64)
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), mode="L")


def to_mode(image: Image.Image, channels: int) -> Image.Image:
    """``image`` as ``L`` (channels 1) or ``RGB`` (channels 3).

    RGBA/LA/PA and palette images with transparency are composited on white (transparent areas of
    scanned or exported text are paper), 16-bit (``I;16*``/``I``) is scaled to 8 bit instead of clipped
    (PIL's ``convert('L')`` would turn most of it white), CMYK, YCbCr, 1-bit and float images are
    converted; then grey (``L``, ITU-R 601 luma as clovaai) or RGB.
    """
    if channels not in (1, 3):
        raise KocrError(f"channels must be 1 or 3, not {channels}")
    target = "L" if channels == 1 else "RGB"
    mode = image.mode
    if mode == target:
        return image
    if mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in image.info):
        image = _composite_on_white(image)
    elif mode == "P":
        image = image.convert("RGB")
    elif mode.startswith("I") or mode == "F":
        image = _to_8bit(image)
    elif mode == "1":
        image = image.convert("L")
    elif mode not in ("L", "RGB"):  # CMYK, YCbCr, LAB, HSV
        image = image.convert("RGB")
    return image if image.mode == target else image.convert(target)


def check_image_mode(image_mode: ImageMode) -> ImageMode:
    """``image_mode`` if a dataset can convert to it (``"L"``, ``"RGB"`` or None), else a clear error."""
    if image_mode not in IMAGE_MODES:
        raise KocrError(f"image_mode must be 'L', 'RGB' or None, not {image_mode!r}")
    return image_mode


def convert_mode(image: Image.Image, image_mode: ImageMode) -> Image.Image:
    """A dataset's ``image_mode`` applied: as stored (None), or :func:`to_mode` grey (``L``) or RGB."""
    return image if image_mode is None else to_mode(image, 1 if image_mode == "L" else 3)


# --- datasets --------------------------------------------------------------------------------------


class SkipUnreadable:
    """Mixin for map-style datasets whose images may fail to decode at read time.

    ``__getitem__`` returns ``(transform(image), label)``; when the image at ``index`` cannot be read
    (``_image_at`` returns None after logging why), the next readable sample is returned instead, up to
    :data:`MAX_SKIP` tries. The batch keeps its size and the default collate function works; the cost is
    that one sample may appear twice in that epoch. Subclasses provide ``path``, ``transform``,
    ``__len__``, ``_image_at(position)`` and ``_label_at(position)``.
    """

    path: Path
    transform: Callable[[Image.Image], Any] | None

    def __len__(self) -> int:
        raise NotImplementedError

    def _image_at(self, position: int) -> Image.Image | None:
        raise NotImplementedError

    def _label_at(self, position: int) -> str:
        raise NotImplementedError

    def __getitem__(self, index: int) -> tuple[Any, str]:
        size = len(self)
        for step in range(min(MAX_SKIP, size)):
            position = (index + step) % size
            image = self._image_at(position)
            if image is not None:
                label = self._label_at(position)
                return (self.transform(image) if self.transform is not None else image), label
        raise KocrError(f"{self.path}: no readable image in {min(MAX_SKIP, size)} samples from index {index}")
