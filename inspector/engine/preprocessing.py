"""Preprocessing presets: how raw 8-bit pixels become the numbers a model expects.

A preset maps raw pixel values ``r`` in 0..255 (float ``(H, W, C)``) to the
model's input space. The presets follow ``keras.applications``'s own
``imagenet_utils.preprocess_input`` modes exactly:

* ``tf``: ``r / 127.5 - 1``, i.e. -1..1 (MobileNet, MobileNetV2, ResNetV2,
  Xception, InceptionV3, InceptionResNetV2, NASNet);
* ``caffe``: RGB -> BGR, then the ImageNet mean ``(103.939, 116.779, 123.68)``
  (B, G, R) subtracted, no scaling (VGG16/19, ResNet50/101/152);
* ``torch``: ``r / 255``, then ``(x - (0.485, 0.456, 0.406)) / (0.229, 0.224, 0.225)``
  per RGB channel (DenseNet);
* ``0-255`` (and ``none``): the raw values (EfficientNet, EfficientNetV2,
  ConvNeXt, MobileNetV3: their rescaling is a layer inside the model);
* ``0-1``: ``r / 255``;
* ``"LOW,HIGH"``: a linear range, what ``--value-range LOW,HIGH`` gives.

``auto`` resolves to one of them from a setting stored beside the model, the
``keras.applications`` family (the model's name, its nested models' names, or
layer names only that family has), else a guess: a Rescaling or Normalization
layer near the input means 0..255, anything else 0..1.

``decide_preprocessing`` is the ONE place where a model's preprocessing is
decided: ``inspect``, ``evaluate``, ``units``, ``dissect``, every tab of the app
and the Python API call it, and everything they write records the preset and
where it came from (``Preprocessing.source``: ``sidecar``, ``model_name``,
``layer_names``, ``user`` or ``default``, the last a guess that reads as one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from inspector.engine.errors import PreprocessingError

PRESETS = ("auto", "none", "tf", "torch", "caffe", "0-1", "0-255")
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)
_SCALE_LAYERS = ("Rescaling", "Normalization")

# (family, preset, model-name pattern, layer names only that family has).
# Checked in order: ResNetV2 before ResNet, whose layer names it shares.
FAMILIES = (
    ("VGG", "caffe", r"vgg1[69]", {"block1_conv2", "block5_pool"}),
    ("ResNetV2", "tf", r"resnet\d+v2", {"conv2_block1_preact_bn", "post_bn"}),
    ("ResNet", "caffe", r"resnet(50|101|152)", {"conv2_block1_0_conv", "conv2_block1_add"}),
    ("DenseNet", "torch", r"densenet\d+", {"conv2_block1_concat", "pool2_conv"}),
    ("MobileNetV2", "tf", r"mobilenetv2_.*", {"bn_Conv1", "expanded_conv_depthwise"}),
    ("MobileNet", "tf", r"mobilenet_.*", {"conv_dw_1", "conv_pw_1"}),
    ("Xception", "tf", r"xception", {"block1_conv1_bn", "block14_sepconv2"}),
    ("InceptionV3", "tf", r"inception_v3", {"mixed9_1", "mixed10"}),
    ("InceptionResNetV2", "tf", r"inception_resnet_v2", {"mixed_5b", "conv_7b"}),
    ("NASNet", "tf", r"nasnet_(mobile|large)|nasnet", {"stem_conv1", "stem_bn1"}),
    ("EfficientNet", "0-255", r"efficientnet(b\d|v2-.*)", set()),
    ("ConvNeXt", "0-255", r"convnext_.*", set()),
    ("MobileNetV3", "0-255", r"mobilenetv3(small|large)", set()),
)


def check_preset(preset: str) -> str:
    """``preset`` if it is a preset name or a ``"LOW,HIGH"`` range, else an error."""
    if preset in PRESETS or _as_range(preset) is not None:
        return preset
    raise PreprocessingError(
        f"Expected a preprocessing preset among {', '.join(PRESETS)} or a range LOW,HIGH "
        f"with LOW < HIGH. Received: preprocess={preset!r}."
    )


def range_preset(low: float, high: float) -> str:
    """The preset name of a linear range, e.g. ``"-1,1"``."""
    return f"{low:g},{high:g}"


def _as_range(preset: str) -> tuple[float, float] | None:
    parts = str(preset).split(",")
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        return None
    return (low, high) if low < high and np.isfinite([low, high]).all() else None


def to_model_input(raw: np.ndarray, preset: str) -> np.ndarray:
    """Apply ``preset`` to raw pixels.

    Args:
        raw: float ``(..., C)`` raw 8-bit values in 0..255.
        preset: a resolved preset (not ``auto``).

    Returns:
        float32 array of the same shape, in the model's input space.

    Raises:
        PreprocessingError: ``auto``, an unknown name, or caffe/torch on C != 3.
    """
    raw = np.asarray(raw, dtype=np.float64)
    if preset in ("none", "0-255"):
        out = raw
    elif preset == "0-1":
        out = raw / 255.0
    elif preset == "tf":
        out = raw / 127.5 - 1.0
    elif preset in ("caffe", "torch"):
        _require_rgb(raw, preset)
        if preset == "caffe":
            out = raw[..., ::-1] - np.asarray(CAFFE_MEAN_BGR)
        else:
            out = (raw / 255.0 - np.asarray(TORCH_MEAN)) / np.asarray(TORCH_STD)
    else:
        low, high = _resolved_range(preset)
        out = low + raw / 255.0 * (high - low)
    return out.astype(np.float32)


def from_model_input(pixels: np.ndarray, preset: str) -> np.ndarray:
    """The inverse of ``to_model_input``: raw 0..255 values (float32, unclipped)."""
    pixels = np.asarray(pixels, dtype=np.float64)
    if preset in ("none", "0-255"):
        raw = pixels
    elif preset == "0-1":
        raw = pixels * 255.0
    elif preset == "tf":
        raw = (pixels + 1.0) * 127.5
    elif preset in ("caffe", "torch"):
        _require_rgb(pixels, preset)
        if preset == "caffe":
            raw = (pixels + np.asarray(CAFFE_MEAN_BGR))[..., ::-1]
        else:
            raw = (pixels * np.asarray(TORCH_STD) + np.asarray(TORCH_MEAN)) * 255.0
    else:
        low, high = _resolved_range(preset)
        raw = (pixels - low) / (high - low) * 255.0
    return raw.astype(np.float32)


def black_value(preset: str, channels: int) -> np.ndarray:
    """A black pixel (raw 0) in the model's input space: float32 ``(channels,)``.

    For ``tf`` that is -1 in every channel; for ``caffe`` the negated BGR mean.
    """
    return to_model_input(np.zeros((channels,)), preset)


def grey_value(preset: str, channels: int) -> np.ndarray:
    """A mid-grey pixel (raw 127.5) in the model's input space: float32 ``(channels,)``."""
    return to_model_input(np.full((channels,), 127.5), preset)


def describe(preset: str) -> str:
    """One human-readable line saying what ``preset`` does."""
    texts = {
        "none": "raw 0..255 pixel values, no preprocessing",
        "0-255": "raw 0..255 pixel values (the model rescales inside)",
        "0-1": "scaled to [0, 1] (x / 255)",
        "tf": "scaled to [-1, 1] (x / 127.5 - 1), as preprocess_input mode 'tf'",
        "caffe": "RGB->BGR, ImageNet mean (103.939, 116.779, 123.68) subtracted, "
        "as preprocess_input mode 'caffe'",
        "torch": "x / 255, then ImageNet mean (0.485, 0.456, 0.406) and std "
        "(0.229, 0.224, 0.225) per channel, as preprocess_input mode 'torch'",
    }
    if preset in texts:
        return texts[preset]
    low, high = _resolved_range(preset)
    return f"scaled to [{low:g}, {high:g}]"


def _resolved_range(preset: str) -> tuple[float, float]:
    found = _as_range(preset)
    if found is None:
        check_preset(preset)  # names the valid presets
        raise PreprocessingError(
            "Expected a resolved preset (not 'auto'); call decide_preprocessing first. "
            f"Received: preprocess={preset!r}."
        )
    return found


def _require_rgb(array: np.ndarray, preset: str) -> None:
    if array.shape[-1] != 3:
        raise PreprocessingError(
            f"Expected an RGB model input (3 channels) for preset {preset!r}. "
            f"Received: {array.shape[-1]} channel(s); use 0-1, 0-255, tf or a range."
        )


def family_of(model) -> tuple[str, str] | None:
    """``(family, preset)`` of a ``keras.applications`` model, or None.

    Looks at the model's name, then the names of models nested near its input
    (a transfer model), then layer names only that family has (a model renamed
    or rebuilt from a backbone's layers). A Rescaling or Normalization layer met
    before a nested backbone wins: that model scales its input itself.
    """
    found = _family_by_name(model.name)
    if found:
        return found
    for layer in _first_layers(model):
        if type(layer).__name__ in _SCALE_LAYERS:
            return None
        if hasattr(layer, "layers"):
            found = _family_by_name(layer.name) or _family_by_layers(layer)
            if found:
                return found
    return _family_by_layers(model)


def _family_by_name(name: str) -> tuple[str, str] | None:
    for family, preset, pattern, _ in FAMILIES:
        if re.fullmatch(pattern, name, flags=re.IGNORECASE):
            return family, preset
    return None


def _family_by_layers(model) -> tuple[str, str] | None:
    names = {layer.name for layer in getattr(model, "layers", ())}
    for family, preset, _, signature in FAMILIES:
        if signature and signature <= names:
            return family, preset
    return None


def _first_layers(model, depth: int = 3) -> list:
    # The layers right after the input, in order, looking inside nested models too.
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    found = []
    for layer in layers[:depth]:
        found.append(layer)
        if hasattr(layer, "layers"):
            found.extend(_first_layers(layer, depth))
    return found


def has_scaling_layer(model) -> bool:
    """True when a Rescaling or Normalization layer sits near the input."""
    return any(type(layer).__name__ in _SCALE_LAYERS for layer in _first_layers(model))


SOURCES = ("sidecar", "model_name", "layer_names", "user", "default")


@dataclass(frozen=True)
class Preprocessing:
    """How raw pixels become one model's input, and where that was decided.

    Attributes:
        preset: a resolved preset (never ``auto``) or a ``"LOW,HIGH"`` range.
        source: one of ``SOURCES``: ``sidecar`` (stored beside or inside the model
            file), ``model_name`` or ``layer_names`` (a ``keras.applications``
            family recognised by its name or by layer names only it has), ``user``
            (``--preprocess``/``--value-range`` or the app's picker), ``default``
            (a guess: nothing said which).
        reason: the decision in words, e.g. ``"keras.applications MobileNetV2"``.
    """

    preset: str
    source: str
    reason: str

    @property
    def guessed(self) -> bool:
        return self.source == "default"

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """float32 model input from raw 0..255 pixels ``(..., C)`` (``to_model_input``)."""
        return to_model_input(raw, self.preset)

    def invert(self, pixels: np.ndarray) -> np.ndarray:
        """Raw 0..255 pixels (float32, unclipped) from model input (``from_model_input``)."""
        return from_model_input(pixels, self.preset)

    def bounds(self, channels: int) -> tuple[np.ndarray, np.ndarray]:
        """float32 ``(channels,)`` each: the model-input values of raw 0 and raw 255, the
        edges of what a real image can hold (per channel: caffe and torch shift each
        channel differently)."""
        low = to_model_input(np.zeros(channels), self.preset)
        high = to_model_input(np.full(channels, 255.0), self.preset)
        return np.minimum(low, high), np.maximum(low, high)

    def words(self) -> str:
        """One line for a status bar or a printed summary, a guess said as one:
        ``"tf (model name: keras.applications MobileNetV2)"``, ``"caffe (stored with the
        model)"``, ``"tf (your choice)"``, ``"0-1 (a guess: no scaling layer ...)"``."""
        if self.guessed:
            return f"{self.preset} (a guess: {self.reason})"
        if self.source in ("sidecar", "user"):
            return f"{self.preset} ({self.reason})"
        return f"{self.preset} ({self.source.replace('_', ' ')}: {self.reason})"

    def record(self) -> dict:
        """The two keys every JSON the tool writes carries (an exact contract)."""
        return {"preprocess": self.preset, "preprocess_source": self.source}


def decide_preprocessing(
    model, preprocess: str = "auto", value_range: tuple[float, float] | None = None
) -> Preprocessing:
    """The preprocessing of ``model``: the one decision every command and tab uses.

    Args:
        model: a Keras model (None: only a user's choice, else the 0..1 guess);
            ``model.preprocess_preset`` (set by ``load_model`` from the sidecar or
            the file's own entry) wins under ``auto``.
        preprocess: a preset name, a ``"LOW,HIGH"`` range, or ``"auto"``.
        value_range: a linear range chosen by the user; overrides ``preprocess``.

    Raises:
        PreprocessingError: an unknown preset (the valid ones are named), or a
            stored one that is not a preset.
    """
    if value_range is not None:
        low, high = value_range
        return Preprocessing(check_preset(range_preset(low, high)), "user", "your value range")
    check_preset(preprocess)
    if preprocess != "auto":
        return Preprocessing(preprocess, "user", "your choice")
    stored = getattr(model, "preprocess_preset", None)
    if stored:
        return Preprocessing(check_preset(stored), "sidecar", "stored with the model")
    if model is not None and hasattr(model, "layers"):
        by_name = _family_by_name(model.name)
        if by_name:
            return Preprocessing(by_name[1], "model_name", f"keras.applications {by_name[0]}")
        found = family_of(model)
        if found:
            # A nested backbone found by its own name is still a name; say which.
            return Preprocessing(found[1], "layer_names", f"keras.applications {found[0]}")
        if has_scaling_layer(model):
            return Preprocessing(
                "0-255", "default", "the model starts with a Rescaling/Normalization layer"
            )
    return Preprocessing("0-1", "default", "no scaling layer and no known family, so 0..1")
