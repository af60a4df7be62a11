"""load_image over every file kind the issue lists, and the files it must refuse.

Every file is written into tmp_path with Pillow, with known pixel values, so the
expected arrays are known exactly (lossy JPEG within a tolerance).
"""

from __future__ import annotations

import gc
import struct
import warnings
import zlib
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from inspector import ImageLoadError, load_image
from inspector.engine.image_loading import MAX_PIXELS, open_image

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def quadrants(size: int = 4) -> np.ndarray:
    """uint8 RGB ``(size, size, 3)``: red, green / blue, white quadrants."""
    half = size // 2
    rgb = np.zeros((size, size, 3), np.uint8)
    rgb[:half, :half], rgb[:half, half:] = RED, GREEN
    rgb[half:, :half], rgb[half:, half:] = BLUE, WHITE
    return rgb


def load_exact(path: Path, shape=(4, 4, 3), value_range=(0.0, 1.0)):
    return load_image(path, input_shape=shape, value_range=value_range)


@pytest.mark.parametrize("suffix", ["png", "bmp", "tif"])
def test_lossless_rgb_files_load_exactly(tmp_path, suffix):
    path = tmp_path / f"rgb.{suffix}"
    Image.fromarray(quadrants()).save(path)
    prepared = load_exact(path)
    np.testing.assert_array_equal(prepared.pixels, quadrants() / np.float32(255))
    np.testing.assert_array_equal(prepared.display, quadrants())
    assert prepared.pixels.dtype == np.float32 and not prepared.pixels.flags.writeable
    assert prepared.original_size == (4, 4) and prepared.source == str(path)


def test_value_range_scales_pixels(tmp_path):
    path = tmp_path / "rgb.png"
    Image.fromarray(quadrants()).save(path)
    prepared = load_exact(path, value_range=(-1.0, 1.0))
    np.testing.assert_allclose(prepared.pixels, quadrants() / 127.5 - 1.0, atol=1e-6)
    assert prepared.steps[-1].endswith("scaled to [-1, 1]")
    assert prepared.preset == "-1,1"


def test_jpeg_exif_orientation_is_applied(tmp_path):
    # Stored 20 wide x 10 high: left half red, right half blue. Orientation 6 says
    # "rotate 90 degrees clockwise to display", so the left half ends up on top.
    stored = np.zeros((10, 20, 3), np.uint8)
    stored[:, :10], stored[:, 10:] = RED, BLUE
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    image.save(path, quality=95, exif=exif)
    prepared = load_image(path, input_shape=(None, None, 3), value_range=(0.0, 255.0))
    assert prepared.pixels.shape == (20, 10, 3)
    np.testing.assert_allclose(prepared.pixels[2, 5], RED, atol=12)
    np.testing.assert_allclose(prepared.pixels[-3, 5], BLUE, atol=12)


def test_gif_first_frame_is_used(tmp_path):
    frames = [Image.new("RGB", (4, 4), RED), Image.new("RGB", (4, 4), BLUE)]
    path = tmp_path / "animated.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    prepared = load_exact(path, value_range=(0.0, 255.0))
    np.testing.assert_allclose(prepared.pixels, np.broadcast_to(RED, (4, 4, 3)), atol=1)


@pytest.mark.parametrize("suffix", ["png", "tif"])
def test_16_bit_files_use_the_full_16_bit_scale(tmp_path, suffix):
    values = np.array([[0, 16384], [32768, 65535]], np.uint16)
    path = tmp_path / f"deep.{suffix}"
    Image.fromarray(values).save(path)
    prepared = load_image(path, input_shape=(2, 2, 1), value_range=(0.0, 1.0))
    # Reduced to 8 bits first, so each value is within one 8-bit step of v/65535.
    np.testing.assert_allclose(prepared.pixels[..., 0], values / 65535.0, atol=1 / 255)
    assert any("16" in step for step in prepared.steps)


def test_palette_file_gives_its_colours(tmp_path):
    path = tmp_path / "palette.png"
    Image.fromarray(quadrants()).convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(path)
    assert Image.open(path).mode == "P"
    np.testing.assert_array_equal(load_exact(path).display, quadrants())


def test_palette_transparency_and_rgba_are_composited_on_white(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (*RED, 255)  # opaque red
    rgba[0, 1] = (*BLUE, 0)  # fully transparent: white shows through
    rgba[1, :] = (0, 0, 0, 128)  # half-transparent black: mid grey
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba).save(path)
    display = load_image(path, input_shape=(2, 2, 3), value_range=(0, 1)).display
    np.testing.assert_array_equal(display[0, 0], RED)
    np.testing.assert_array_equal(display[0, 1], WHITE)
    np.testing.assert_allclose(display[1, 0], (127, 127, 127), atol=1)
    palette_path = tmp_path / "transparent_palette.png"
    palette = Image.new("P", (2, 1))
    palette.putpalette([*RED, *GREEN])
    palette.putdata([0, 1])
    palette.save(palette_path, transparency=1)  # index 1 (green) is transparent
    display = load_image(palette_path, input_shape=(1, 2, 3), value_range=(0, 1)).display
    np.testing.assert_array_equal(display[0], [RED, WHITE])


def test_rgba_is_kept_for_a_four_channel_model(tmp_path):
    rgba = np.full((2, 2, 4), 200, np.uint8)
    rgba[..., 3] = 50
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba).save(path)
    pixels = load_image(path, input_shape=(2, 2, 4), value_range=(0, 255)).pixels
    np.testing.assert_array_equal(pixels, rgba.astype(np.float32))


def test_cmyk_is_converted_to_rgb(tmp_path):
    cmyk = np.array(
        [[[0, 0, 0, 0], [0, 255, 255, 0]], [[255, 0, 255, 0], [0, 0, 0, 255]]], np.uint8
    )
    path = tmp_path / "print.tif"
    Image.fromarray(cmyk, mode="CMYK").save(path)
    display = load_image(path, input_shape=(2, 2, 3), value_range=(0, 1)).display
    np.testing.assert_array_equal(display, [[WHITE, RED], [GREEN, (0, 0, 0)]])


def test_one_bit_file_becomes_black_and_white(tmp_path):
    bits = np.array([[True, False], [False, True]])
    path = tmp_path / "bits.png"
    Image.fromarray(bits).save(path)
    assert Image.open(path).mode == "1"
    gray = load_image(path, input_shape=(2, 2, 1), value_range=(0, 1)).pixels[..., 0]
    np.testing.assert_array_equal(gray, bits.astype(np.float32))


def test_colour_and_grey_are_converted_to_the_model_channels(tmp_path):
    path = tmp_path / "rgb.png"
    Image.fromarray(quadrants()).save(path)
    gray = load_image(path, input_shape=(4, 4, 1), value_range=(0, 255)).pixels
    assert gray.shape == (4, 4, 1)
    # Pillow's ITU-R 601-2 luma: L = R * 299/1000 + G * 587/1000 + B * 114/1000.
    assert gray[0, 0, 0] == 76 and gray[0, 3, 0] == 150 and gray[3, 0, 0] == 29
    grey_path = tmp_path / "grey.png"
    Image.fromarray(np.full((4, 4), 90, np.uint8)).save(grey_path)
    colour = load_exact(grey_path, value_range=(0, 255))
    np.testing.assert_array_equal(colour.pixels, np.full((4, 4, 3), 90, np.float32))


def test_other_aspect_is_centre_cropped_then_resized(tmp_path):
    wide = np.zeros((10, 30, 3), np.uint8)
    wide[:, 10:20] = GREEN  # the centre third is green
    path = tmp_path / "wide.png"
    Image.fromarray(wide).save(path)
    prepared = load_image(path, input_shape=(5, 5, 3), value_range=(0, 255))
    np.testing.assert_array_equal(prepared.pixels, np.broadcast_to(GREEN, (5, 5, 3)))
    assert prepared.original_size == (30, 10)
    assert any("centre-cropped 30x10 to 10x10" in s for s in prepared.steps)
    assert any("resized 10x10 to 5x5" in s for s in prepared.steps)


def test_model_gives_size_channels_and_value_scale(tmp_path):
    path = tmp_path / "rgb.png"
    Image.fromarray(quadrants(8)).save(path)
    raw = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Rescaling(1 / 255)])
    plain = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Flatten()])
    from_raw = load_image(path, raw)
    assert from_raw.pixels.shape == (4, 4, 1) and from_raw.pixels.max() > 1.0  # 0..255
    from_plain = load_image(path, plain)
    assert from_plain.pixels.shape == (4, 4, 3) and from_plain.pixels.max() == 1.0


# --- files that must be refused -------------------------------------------------


def png_claiming_size(path: Path, width: int, height: int) -> Path:
    """A tiny PNG whose header claims ``width`` x ``height`` (a decompression bomb's header)."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grey
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    data = zlib.compress(b"\x00" * 64)
    idat = (
        struct.pack(">I", len(data))
        + b"IDAT"
        + data
        + struct.pack(">I", zlib.crc32(b"IDAT" + data))
    )
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + ihdr + idat + end)
    return path


@pytest.mark.parametrize("side", [9000, 20000])  # above our limit; above Pillow's own
def test_decompression_bomb_is_refused_before_decoding(tmp_path, side):
    assert side * side > MAX_PIXELS
    path = png_claiming_size(tmp_path / "bomb.png", side, side)
    with pytest.raises(ImageLoadError, match=r"bomb\.png") as caught:
        load_exact(path)
    assert "decompression bomb" in str(caught.value).lower()


def test_pixel_limit_is_a_parameter(tmp_path):
    path = tmp_path / "rgb.png"
    Image.fromarray(quadrants()).save(path)
    with pytest.raises(ImageLoadError, match=r"at most 10 pixels.*16 pixels"):
        open_image(path, max_pixels=10)


@pytest.mark.parametrize("suffix", ["png", "jpg"])
def test_truncated_file_is_refused(tmp_path, suffix):
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    whole = tmp_path / f"whole.{suffix}"
    Image.fromarray(noise).save(whole)
    cut = tmp_path / f"cut.{suffix}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(ImageLoadError, match=rf"complete image.*cut\.{suffix}"):
        load_exact(cut)


def test_non_image_missing_file_and_folder_are_refused(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    with pytest.raises(ImageLoadError, match=r"Pillow can read.*notes\.png"):
        load_exact(text)
    with pytest.raises(ImageLoadError, match=r"missing\.png.*does not exist"):
        load_exact(tmp_path / "missing.png")
    with pytest.raises(ImageLoadError, match="does not exist"):
        load_exact(tmp_path)


# --- defects found while writing these tests, now fixed ---


def test_files_are_closed_after_loading_and_after_refusing(tmp_path):
    frames = [Image.new("RGB", (4, 4), RED), Image.new("RGB", (4, 4), BLUE)]
    gif = tmp_path / "animated.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:])
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "whole.bmp")
    cut = tmp_path / "cut.bmp"
    cut.write_bytes((tmp_path / "whole.bmp").read_bytes()[:5000])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        load_exact(gif)
        with pytest.raises(ImageLoadError):
            load_exact(cut)
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []


def test_float_image_in_unit_range_keeps_its_scale(tmp_path):
    values = np.array([[0.0, 0.25], [0.5, 1.0]], np.float32)
    path = tmp_path / "float.tif"
    Image.fromarray(values).save(path)
    assert Image.open(path).mode == "F"
    pixels = load_image(path, input_shape=(2, 2, 1), value_range=(0.0, 1.0)).pixels[..., 0]
    np.testing.assert_allclose(pixels, values, atol=1 / 255)
