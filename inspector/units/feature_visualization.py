"""Feature visualisation: an input image that makes one channel fire as much as it can.

Regularised gradient ascent on the input pixels, as in Yosinski, Clune, Nguyen,
Fuchs & Lipson, "Understanding Neural Networks Through Deep Visualization",
ICML Deep Learning workshop 2015, section 3 (their update x <- r(x + eta * da/dx)
with the regulariser r made of):

* **L2 decay**: ``z <- (1 - decay) * z``, with z the image minus mid-grey (their
  images are mean-subtracted too, so decay pulls towards grey);
* **Gaussian blur** of width ``blur_sigma`` every ``blur_every`` steps;
* **clipping pixels with small norm**: pixels whose norm over channels lies in
  the lowest ``clip_percentile`` percent are set to grey;

plus **random jitter** (Olah, Mordvintsev & Schubert, "Feature Visualization",
Distill 2017): each step the image is rolled by up to ``jitter`` pixels before
the gradient is taken and rolled back after. Olah et al. jitter by up to 16 px
on 224 px inputs; we scale that to the input size (7 % of the side, at least
1 px), i.e. 2 px at 32 px and 4 px at 64 px. The step is the gradient divided by
its largest absolute value (a step of ``step_size`` of the value range on the
steepest pixel), so one setting works whatever the activation scale. The last
``polish_steps`` steps (60 of the 200) run without jitter and blur: the
regularisers shape the image, and this finish lets it reach the unit's own
optimum, which the comparison with the best dataset example needs (with jitter
to the end, a unit matched to one exact 7x7 pattern is smeared by +-2 px and
never fires). A
20-step finish was too short for the first layers, whose best dataset patch is
a saturated 0/255 edge close to the unit's exact optimum: on the bundled model
109 of 144 images beat their best example with 20 steps, 140 with 60.

The objective is the channel's centre unit (the unit at the map's centre), so
the image is a picture of what that unit's receptive field wants; the result
reports the channel's maximum over positions, the same quantity the dataset
top-k ranks by. Every image is checked against the unit's best dataset example.

**Parametrisation** (``VisualizationSettings.parametrization``). ``"pixel"``:
the ascent variable is the image itself. ``"fourier"``: the image is
parametrised by its 2-D Fourier coefficients, each scaled by 1/frequency
(Olah, Mordvintsev & Schubert, "Feature Visualization", Distill 2017, section
"Preconditioning and Parameterization"; Mordvintsev, Pezzotti, Schubert & Olah,
"Differentiable Image Parameterizations", Distill 2018), and the ascent climbs
the coefficients' gradient, so low frequencies move first: seen in pixels the
step is the pixel gradient filtered by 1/f^2 (``FourierBasis.ascent_direction``),
which is how the papers keep high-frequency noise out. Per input channel; no
colour decorrelation (the bundled model is grey). The image is kept between
steps (the coefficient map is exact both ways, so this is the same state), and
everything else is shared with the pixel version: the step is normalised on its
steepest *pixel*; decay, blur, small-norm clipping and the value range act on
the image. Two choices, both measured (``benchmarks/bench_feature_vis.py``):

* the value range is kept by clipping, not the papers' sigmoid: a unit's best
  dataset example can hold fully saturated pixels (0 and 255), which a sigmoid
  only approaches, and clipping is what the pixel version does;
* the ``polish_steps`` finish climbs in pixels for both. At 64 px the Fourier
  step moves the highest frequencies ~2,000 times slower than the lowest, so a
  3x3 edge unit, or the planted 7x7 pattern, whose optimum is a sharp saturated
  patch, is never reached: with a Fourier finish the planted detector stays at
  0 (correlation 0.11 with its pattern) and 80 of 144 channels of the bundled
  model pass the check, against 109 with the pixel finish.

The Fourier step spreads a unit's gradient over the whole frame, so a unit with
a small receptive field gets a smooth halo around it that does not change its
activation (decay fades it slowly); the pixel step leaves pixels outside the
receptive field grey.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from inspector.defaults import BATCH_SIZE
from inspector.engine.inspection import read_only
from inspector.engine.progress import Cancelled, Progress, check_cancelled, report
from inspector.units.probe import LayerProbe


@dataclass(frozen=True)
class VisualizationSettings:
    steps: int = 200
    step_size: float = 0.05  # fraction of the value range, steepest pixel, per step
    decay: float = 0.01
    blur_sigma: float = 0.5
    blur_every: int = 4
    clip_percentile: float = 10.0
    polish_steps: int = 60  # the last steps: no jitter, no blur (see the module doc)
    seed: int = 0
    parametrization: str = "pixel"  # or "fourier" (see the module doc)


@dataclass(frozen=True)
class Visualizations:
    """Optimised images of some channels of one layer.

    Attributes:
        layer: the layer's name; ``channels``: int ``(N,)`` the channels.
        images: float32 ``(N, H, W, C)`` in the model's value range.
        activations: float32 ``(N,)`` the channel's max over positions on its image.
    """

    layer: str
    channels: np.ndarray
    images: np.ndarray
    activations: np.ndarray


@contextmanager
def _pre_activation(model, name: str):
    """Trace with the layer's fused activation switched off, restoring it after.

    A ReLU unit that is off at the grey start has zero gradient and could never
    be woken, so the ascent climbs the pre-activation, as Olah et al.'s Lucid
    does (e.g. ``mixed4a_pre_relu``); the result is still checked on the real,
    post-activation output.
    """
    layer = _find_layer(model, name)
    saved = getattr(layer, "activation", None)
    if saved is not None:
        layer.activation = keras.activations.linear
    try:
        yield
    finally:
        if saved is not None:
            layer.activation = saved


def _find_layer(model, name: str):
    outer, _, inner = name.partition("/")
    layer = model.get_layer(outer.split("@")[0])
    return _find_layer(layer, inner) if inner else layer


def _gaussian_kernel(sigma: float, channels: int) -> tf.Tensor:
    radius = max(1, int(np.ceil(2 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel = np.outer(taps, taps) / np.outer(taps, taps).sum()
    return tf.constant(np.tile(kernel[:, :, None, None], (1, 1, channels, 1)), tf.float32)


class PixelBasis:
    """The image is its own parametrisation: the step is the pixel gradient ``(B, H, W, C)``."""

    def ascent_direction(self, pixel_gradient: tf.Tensor) -> tf.Tensor:
        return pixel_gradient


class FourierBasis:
    """Real 2-D Fourier coefficients scaled by 1/frequency, per input channel.

    ``image = irfft2(scale * (re + i im))`` with ``scale = 1 / max(f, 1 / max(H, W))``
    and ``f`` the spatial frequency in cycles per pixel (the floor keeps the mean,
    f = 0, finite and equal to the lowest non-zero frequency). The half spectrum's
    inner columns each stand for two bins of the full one (a bin and its conjugate
    twin), its first (and, for even W, last) column for one; those columns get an
    extra sqrt(2) so every coefficient weighs the same, and the ascent step is
    the same 1/f^2 filter along rows and columns (without it, vertical detail
    moves half as fast).

    Coefficients: float32 ``(B, C, H, W // 2 + 1, 2)`` (real, imaginary);
    images: float32 ``(B, H, W, C)``.
    """

    def __init__(self, height: int, width: int) -> None:
        self.size = (height, width)
        rows = np.fft.fftfreq(height)[:, None]
        cols = np.fft.rfftfreq(width)[None, :]
        scale = 1.0 / np.maximum(np.hypot(rows, cols), 1.0 / max(height, width))
        scale[:, 0] *= np.sqrt(2.0)
        if width % 2 == 0:
            scale[:, -1] *= np.sqrt(2.0)
        self.scale = tf.constant(scale, tf.complex64)  # (H, W // 2 + 1)

    def to_coefficients(self, image: tf.Tensor) -> tf.Tensor:
        spectrum = tf.signal.rfft2d(tf.transpose(image, [0, 3, 1, 2])) / self.scale
        return tf.stack([tf.math.real(spectrum), tf.math.imag(spectrum)], axis=-1)

    def to_image(self, coefficients: tf.Tensor) -> tf.Tensor:
        spectrum = tf.complex(coefficients[..., 0], coefficients[..., 1]) * self.scale
        image = tf.signal.irfft2d(spectrum, fft_length=self.size)  # (B, C, H, W)
        return tf.transpose(image, [0, 2, 3, 1])

    def ascent_direction(self, pixel_gradient: tf.Tensor) -> tf.Tensor:
        """How the image moves when its coefficients step along their gradient.

        By the chain rule the coefficients' gradient is the transpose of
        ``to_image`` applied to the pixel gradient ``(B, H, W, C)``; the basis is
        linear, so the image moves by ``to_image`` of that step.
        """
        coefficients = self.to_coefficients(tf.zeros_like(pixel_gradient))
        with tf.GradientTape() as tape:
            tape.watch(coefficients)
            image = self.to_image(coefficients)
        return self.to_image(tape.gradient(image, coefficients, output_gradients=pixel_gradient))


PARAMETRIZATIONS = ("pixel", "fourier")


class FeatureVisualizer:
    """Batched regularised gradient ascent for the channels of the probe's layers.

    Raises:
        ValueError: ``settings.parametrization`` is neither ``"pixel"`` nor ``"fourier"``.
    """

    def __init__(self, probe: LayerProbe, settings: VisualizationSettings | None = None) -> None:
        self.probe = probe
        self.settings = settings or VisualizationSettings()
        if self.settings.parametrization not in PARAMETRIZATIONS:
            raise ValueError(
                f"Expected parametrization 'pixel' or 'fourier'. "
                f"Received: {self.settings.parametrization!r}."
            )
        self.basis = (
            FourierBasis(*probe.input_shape[:2])
            if self.settings.parametrization == "fourier"
            else PixelBasis()
        )
        # Per channel: caffe and torch shift each channel by its own mean. Images stay
        # within what a real image can hold after the model's own preprocessing.
        low, high = probe.preprocess.bounds(probe.input_shape[2])
        self.mid, self.half = (low + high) / 2, (high - low) / 2  # float32 (C,)
        self.jitter = max(1, round(0.07 * probe.input_shape[0]))
        self._kernel = _gaussian_kernel(self.settings.blur_sigma, probe.input_shape[2])
        self._steps: dict[int, tf.types.experimental.GenericFunction] = {}

    def _step_function(self, index: int):
        if index in self._steps:
            return self._steps[index]
        s, mid, half = self.settings, self.mid, self.half
        h, w = self.probe.layers[index].shape[:2]
        spec = tf.TensorSpec((None, *self.probe.input_shape), tf.float32)

        def step(z, channels, shift, blur, polish):
            with tf.GradientTape() as tape:
                tape.watch(z)
                rolled = tf.roll(z, shift, axis=[1, 2])
                activation = self.probe.outputs(mid + rolled)[index]
                centre = tf.gather(activation[:, h // 2, w // 2, :], channels, batch_dims=1)
                total = tf.reduce_sum(centre)
            grad = tape.gradient(total, z)
            # The finish climbs in pixels whatever the parametrisation (module doc).
            grad = tf.cond(polish, lambda: grad, lambda: self.basis.ascent_direction(grad))
            scale = tf.reduce_max(tf.abs(grad), axis=[1, 2, 3], keepdims=True) + 1e-12
            z = (1.0 - s.decay) * (z + s.step_size * 2 * half * grad / scale)
            z = tf.cond(blur, lambda: self._blur(z), lambda: z)
            z = self._clip_small_pixels(z)
            return tf.clip_by_value(z, -half, half)

        shapes = [
            spec,
            tf.TensorSpec((None,), tf.int32),
            tf.TensorSpec((2,), tf.int32),
            tf.TensorSpec((), tf.bool),
            tf.TensorSpec((), tf.bool),
        ]
        traced = tf.function(step, input_signature=shapes, autograph=False)
        with _pre_activation(self.probe.model, self.probe.layers[index].name):
            self._steps[index] = traced.get_concrete_function()
        return self._steps[index]

    def _blur(self, z):
        radius = (self._kernel.shape[0] - 1) // 2
        padded = tf.pad(z, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT")
        return tf.nn.depthwise_conv2d(padded, self._kernel, [1, 1, 1, 1], "VALID")

    def _clip_small_pixels(self, z):
        norms = tf.norm(z, axis=-1)  # (B, H, W)
        flat = tf.sort(tf.reshape(norms, [tf.shape(z)[0], -1]), axis=1)
        cut = int(self.settings.clip_percentile / 100 * int(np.prod(self.probe.input_shape[:2])))
        threshold = flat[:, cut][:, None, None]
        return z * tf.cast(norms >= threshold, z.dtype)[..., None]

    def visualize(
        self,
        layer: str,
        channels: np.ndarray,
        batch_size: int = BATCH_SIZE,
        *,
        cancelled: Cancelled | None = None,
        progress: Progress | None = None,
    ) -> Visualizations:
        """Optimise one image per channel of ``layer``, ``batch_size`` channels per compiled call.

        A channel's image does not depend on the batch it is optimised in: its
        starting noise is seeded by the channel, and the jitter by the layer only.

        Args:
            cancelled: polled before every step; True stops with ``CancelledError``.
            progress: ``(steps done, steps in total, what)`` every 10 steps
                (``inspector.engine.progress``).

        Returns:
            ``Visualizations`` with images in the model's value range.
        """
        index = self.probe.names.index(layer)
        channels = np.asarray(channels, np.int32)
        batches = [channels[low : low + batch_size] for low in range(0, len(channels), batch_size)]
        total = len(batches) * self.settings.steps
        what = f"ascent steps ({layer})"
        images, acts = [], []
        for number, chosen in enumerate(batches):
            done = number * self.settings.steps

            def stepped(step: int, done=done) -> None:
                check_cancelled(cancelled, f"the feature visualisation of {layer}")
                if step % 10 == 0:
                    report(progress, done + step, total, what)

            image = self._optimise(index, chosen, stepped)
            images.append(image)
            acts.append(self._activation(index, image, chosen))
        report(progress, total, total, what)
        return Visualizations(
            layer,
            read_only(channels),
            read_only(np.concatenate(images)),
            read_only(np.concatenate(acts)),
        )

    def _optimise(self, index: int, channels: np.ndarray, report) -> np.ndarray:
        s = self.settings
        rng = np.random.default_rng([s.seed, index])  # the jitter: the same for any batch
        # Start from faint noise around grey, as Yosinski et al. start from near-zero;
        # each channel's own noise, so its image does not depend on its batch.
        z = tf.constant(
            np.stack(
                [
                    np.random.default_rng([s.seed, index, int(c)]).normal(
                        0, 0.05 * self.half, self.probe.input_shape
                    )
                    for c in channels
                ]
            ),
            tf.float32,
        )
        step = self._step_function(index)
        channel_tensor = tf.constant(channels)
        regularised = s.steps - s.polish_steps
        for i in range(s.steps):
            report(i)
            shift = rng.integers(-self.jitter, self.jitter + 1, size=2).astype(np.int32)
            if i >= regularised:
                shift = np.zeros(2, np.int32)
            blur = s.blur_every > 0 and (i + 1) % s.blur_every == 0 and i < regularised
            polish = tf.constant(i >= regularised)
            z = step(z, channel_tensor, tf.constant(shift), tf.constant(blur), polish)
        return np.asarray(z) + self.mid

    def _activation(self, index: int, images: np.ndarray, channels: np.ndarray) -> np.ndarray:
        activation = np.asarray(self.probe.forward(tf.constant(images, tf.float32))[index])
        return activation.max(axis=(1, 2))[np.arange(len(channels)), channels].astype(np.float32)
