"""The packaged placeholder is a real, playable video: H.264 + AAC, 5 s of a 1280x720 card that says the
video is archived, with a matching JPEG thumbnail; dev/make_placeholder.py makes both, and an
ArchiverSettings without a placeholder configured uses them."""

from __future__ import annotations

from pathlib import Path

import av
from PIL import Image, ImageChops, ImageStat

from dev import make_placeholder
from kaltura_archiver.config import DEFAULT_PLACEHOLDER_THUMBNAIL, DEFAULT_PLACEHOLDER_VIDEO, ArchiverSettings
from kaltura_archiver.operations.context import PlaceholderFile

VIDEO = Path(DEFAULT_PLACEHOLDER_VIDEO)
THUMBNAIL = Path(DEFAULT_PLACEHOLDER_THUMBNAIL)


def _difference(one: Image.Image, other: Image.Image) -> float:
    """Mean absolute difference per channel value (0-255)."""
    return sum(ImageStat.Stat(ImageChops.difference(one.convert("RGB"), other.convert("RGB"))).mean) / 3


def test_the_packaged_video_decodes_to_five_seconds_of_the_card() -> None:
    with av.open(str(VIDEO)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        assert (video.codec_context.name, audio.codec_context.name) == ("h264", "aac")
        assert (video.codec_context.width, video.codec_context.height) == (1280, 720)
        assert abs(container.duration / av.time_base - 5.0) < 0.1
        frames = list(container.decode(video=0))
    assert len(frames) == make_placeholder.FPS * make_placeholder.SECONDS
    assert _difference(frames[0].to_image(), make_placeholder.card()) < 2.0
    assert _difference(frames[-1].to_image(), make_placeholder.card()) < 2.0
    assert 10_000 < VIDEO.stat().st_size < 300_000  # a few seconds of a still card stay small
    assert VIDEO.read_bytes()[4:8] == b"ftyp"


def test_the_packaged_thumbnail_is_the_card_as_jpeg() -> None:
    with Image.open(THUMBNAIL) as image:
        assert (image.format, image.size) == ("JPEG", (1280, 720))
        assert _difference(image, make_placeholder.card()) < 2.0


def test_the_script_makes_the_packaged_files(tmp_path: Path) -> None:
    video, thumbnail = make_placeholder.make(tmp_path)
    assert thumbnail.read_bytes() == THUMBNAIL.read_bytes()
    with av.open(str(video)) as made, av.open(str(VIDEO)) as shipped:
        assert made.duration == shipped.duration
        made_frame = next(made.decode(video=0)).to_image()
        shipped_frame = next(shipped.decode(video=0)).to_image()
    assert _difference(made_frame, shipped_frame) < 0.5


def test_settings_without_a_placeholder_use_the_packaged_files() -> None:
    settings = ArchiverSettings()
    assert settings.placeholder_video_path == str(VIDEO)
    assert settings.placeholder_thumbnail_path == str(THUMBNAIL)
    PlaceholderFile(settings.placeholder_video_path).check()
    PlaceholderFile(settings.placeholder_thumbnail_path, "thumbnail").check()
    custom = ArchiverSettings(placeholder_video="/srv/ph.mp4", placeholder_thumbnail="/srv/ph.png")
    assert (custom.placeholder_video_path, custom.placeholder_thumbnail_path) == (
        "/srv/ph.mp4",
        "/srv/ph.png",
    )
