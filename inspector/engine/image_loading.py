"""Turn any image file Pillow can read into the array a given model expects."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from inspector.engine.errors import ImageLoadError
from inspector.engine.inspection import read_only
from inspector.engine.preprocessing import Preprocessing, decide_preprocessing, describe

# Pillow's own bomb limit is ~89 MP with only a warning below twice that; we
# refuse anything above this many pixels outright.
MAX_PIXELS = 64_000_000


@dataclass(frozen=True)
class PreparedImage:
    """An image made ready for one model, and how it got there.

    Attributes:
        pixels: float32 ``(H, W, C)`` in the model's value scale, read-only.
        display: uint8 RGB ``(H, W, 3)`` of the same crop and size, for showing.
        steps: human-readable preprocessing steps, in order.
        source: the file it came from.
        original_size: ``(width, height)`` of the file before cropping and resizing.
        preprocess: the preprocessing applied and where it was decided
            (``preprocessing.decide_preprocessing``).
    """

    pixels: np.ndarray
    display: np.ndarray
    steps: tuple[str, ...]
    source: str
    original_size: tuple[int, int]
    preprocess: Preprocessing

    @property
    def preset(self) -> str:
        """The preset applied (``"tf"``, ``"0-1"``, a range ``"LOW,HIGH"``...)."""
        return self.preprocess.preset


def open_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open and fully decode an image, with EXIF orientation applied.

    Raises:
        ImageLoadError: missing file, not an image, truncated, or too many pixels.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageLoadError(
            f"Expected an image file. Received: {str(path)!r}, which does not exist."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise ImageLoadError(
                        f"Expected an image of at most {max_pixels:,} pixels. Received: "
                        f"{path.name!r} of {width}x{height} = {width * height:,} pixels "
                        "(refused as a possible decompression bomb)."
                    )
                image.seek(0)  # first frame of an animation
                image.load()  # decode now, so truncation is found here
                # exif_transpose returns a new image, so the file can close here.
                return ImageOps.exif_transpose(image)
    except ImageLoadError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as error:
        raise ImageLoadError(
            f"Expected an image Pillow can read (PNG, JPEG, BMP, TIFF, GIF, ...). "
            f"Received: {path.name!r}: {error}"
        ) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageLoadError(
            f"Expected a complete image file. Received: {path.name!r}, which could not "
            f"be decoded ({error})."
        ) from None


def to_rgb_or_gray(image: Image.Image, channels: int, steps: list[str]) -> Image.Image:
    """Convert any Pillow mode to 'L' (1 channel), 'RGB' (3) or 'RGBA' (4)."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        if mode.startswith("I;16") or array.max() > 255:
            top = 65535.0
        elif mode == "F" and array.max() <= 1.0:
            top = 1.0  # float images are normally stored in [0, 1]
        else:
            top = 255.0
        image = Image.fromarray(np.clip(array / top * 255.0, 0, 255).astype(np.uint8))
        steps.append(f"{mode} scaled to 8 bits (divided by {top:g}/255)")
        mode = "L"
    if channels != 4 and ("A" in mode or (mode == "P" and "transparency" in image.info)):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
        steps.append(f"{mode} composited on white")
        mode = "RGBA"
    wanted = {1: "L", 3: "RGB", 4: "RGBA"}.get(channels)
    if wanted is None:
        raise ImageLoadError(
            f"Expected a model input with 1, 3 or 4 channels. Received: {channels} channels."
        )
    if mode != wanted:
        image = image.convert(wanted)
        steps.append(f"converted {mode} to {wanted}")
    return image


def fit_to_size(
    image: Image.Image,
    size: tuple[int | None, int | None],
    steps: list[str],
    crop: tuple[int, int, int, int] | None = None,
) -> Image.Image:
    """Crop (given box, else centre to the model's aspect) and resize to ``(H, W)``."""
    if crop is not None:
        image = image.crop(crop)
        steps.append(f"cropped to box {tuple(crop)}")
    height, width = size
    if height is None or width is None:
        return image
    w, h = image.size
    target_aspect = width / height
    if crop is None and abs(w / h - target_aspect) > 1e-3:
        new_w, new_h = (
            (round(h * target_aspect), h)
            if w / h > target_aspect
            else (w, round(w / target_aspect))
        )
        left, top = (w - new_w) // 2, (h - new_h) // 2
        image = image.crop((left, top, left + new_w, top + new_h))
        steps.append(f"centre-cropped {w}x{h} to {new_w}x{new_h}")
        w, h = new_w, new_h
    if (w, h) != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=3.0)
        steps.append(f"resized {w}x{h} to {width}x{height} (bilinear)")
    return image


def load_image(
    path: str | Path,
    model=None,
    *,
    input_shape=None,
    value_range: tuple[float, float] | None = None,
    crop: tuple[int, int, int, int] | None = None,
    preprocess: str | Preprocessing = "auto",
) -> PreparedImage:
    """Load an image file as the input a model expects.

    Args:
        path: any file Pillow reads: PNG, JPEG (EXIF orientation honoured), BMP,
            TIFF, GIF (first frame), 16-bit, palette, RGBA, CMYK, 1-bit.
        model: the Keras model; gives the input size, channels and value scale.
        input_shape: ``(H, W, C)`` instead of a model (H, W may be None).
        value_range: a linear pixel range to scale to; overrides ``preprocess``.
        crop: optional ``(left, top, right, bottom)`` box in file pixels.
        preprocess: a preset of ``inspector.engine.preprocessing`` (``auto``,
            ``none``, ``tf``, ``torch``, ``caffe``, ``0-1``, ``0-255``); ``auto``
            recognises the model's family (see ``decide_preprocessing``); or a
            ``Preprocessing`` already decided, used as it is.

    Returns:
        A ``PreparedImage`` whose ``pixels`` are float32 ``(H, W, C)``.

    Raises:
        ImageLoadError: for a missing, broken, truncated or oversized file.
    """
    return prepare_image(
        open_image(path),
        path,
        model,
        input_shape=input_shape,
        value_range=value_range,
        crop=crop,
        preprocess=preprocess,
    )


def prepare_image(
    image: Image.Image,
    path: str | Path,
    model=None,
    *,
    input_shape=None,
    value_range: tuple[float, float] | None = None,
    crop: tuple[int, int, int, int] | None = None,
    preprocess: str | Preprocessing = "auto",
) -> PreparedImage:
    """``load_image`` for a picture already decoded by ``open_image``.

    Callers that need the original picture too (for a face crop) decode the
    file once and pass it here. ``path`` only names the source.
    """
    chosen = (
        preprocess
        if isinstance(preprocess, Preprocessing)
        else decide_preprocessing(model, preprocess, value_range)
    )
    if input_shape is None:
        if model is None:
            raise ValueError("load_image needs a model or an input_shape")
        from inspector.engine.model_inputs import image_shape

        input_shape = image_shape(model)
    height, width, channels = input_shape
    original_size = image.size
    steps: list[str] = [f"read {Path(path).name} ({image.mode}, {image.size[0]}x{image.size[1]})"]
    image = to_rgb_or_gray(image, channels, steps)
    image = fit_to_size(image, (height, width), steps, crop)
    raw = np.asarray(image, dtype=np.float32)
    if raw.ndim == 2:
        raw = raw[..., None]
    pixels = chosen.apply(raw)
    steps.append(f"preprocess {chosen.words()}: {describe(chosen.preset)}")
    return PreparedImage(
        read_only(pixels),
        read_only(display_from_unit(raw / 255.0)),
        tuple(steps),
        str(path),
        original_size,
        chosen,
    )


def display_from_unit(unit: np.ndarray) -> np.ndarray:
    """uint8 RGB ``(H, W, 3)`` from a ``(H, W, C)`` array in [0, 1]."""
    rgb = np.repeat(unit, 3, axis=-1) if unit.shape[-1] == 1 else unit[..., :3]
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def display_from_array(pixels: np.ndarray) -> np.ndarray:
    """uint8 RGB for an array of unknown scale: stretched min..max to 0..255."""
    low, high = float(pixels.min()), float(pixels.max())
    unit = (pixels - low) / (high - low) if high > low else np.zeros_like(pixels)
    return read_only(display_from_unit(unit))
