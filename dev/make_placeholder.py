"""Make the packaged placeholder: a short H.264/AAC MP4 showing a still card, and its thumbnail.

    .venv/bin/python -m dev.make_placeholder [--out DIR]

writes `placeholder.mp4` and `placeholder.jpg` into `include/kaltura_archiver/assets/` (or DIR).
The card says the video is archived and comes back within hours of being played. Encoding is
single-threaded with fixed settings, so the same PyAV (pinned in requirements-dev.txt) makes the
same bytes; the files are committed and shipped in the package, PyAV is only needed to remake them.
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ASSETS = Path(__file__).resolve().parent.parent / "include" / "kaltura_archiver" / "assets"
WIDTH, HEIGHT = 1280, 720
FPS = 25
SECONDS = 5
AUDIO_RATE = 48_000
AUDIO_FRAME = 1024
BACKGROUND = (24, 39, 58)
TITLE = "This video is archived"
LINES = (
    "It was not played for years, so its original was moved to long-term storage.",
    "Playing it has asked for it back: it returns here within a few hours.",
    "Please come back later.",
)


def card() -> Image.Image:
    """The still card: a title and three lines of text, centred on a dark background."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    title_font = ImageFont.load_default(size=64)
    text_font = ImageFont.load_default(size=30)
    draw.text((WIDTH / 2, 250), TITLE, font=title_font, fill=(255, 255, 255), anchor="mm")
    draw.line((WIDTH / 2 - 260, 310, WIDTH / 2 + 260, 310), fill=(120, 170, 220), width=3)
    for number, line in enumerate(LINES):
        draw.text((WIDTH / 2, 380 + number * 52), line, font=text_font, fill=(215, 225, 235), anchor="mm")
    return image


def write_video(image: Image.Image, path: Path) -> None:
    """`SECONDS` of the still image (H.264, yuv420p) with a silent stereo AAC track, moov first."""
    import av

    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height = WIDTH, HEIGHT
        video.pix_fmt = "yuv420p"
        video.options = {"crf": "30", "preset": "veryslow", "tune": "stillimage", "threads": "1"}
        video.codec_context.gop_size = FPS * 2
        audio = container.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
        frame = av.VideoFrame.from_image(image).reformat(format="yuv420p")
        for index in range(FPS * SECONDS):
            frame.pts = index
            frame.time_base = Fraction(1, FPS)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        silence = bytes(AUDIO_FRAME * 4)  # s16 interleaved stereo
        for index in range(AUDIO_RATE * SECONDS // AUDIO_FRAME):
            chunk = av.AudioFrame(format="s16", layout="stereo", samples=AUDIO_FRAME)
            chunk.planes[0].update(silence)
            chunk.sample_rate = AUDIO_RATE
            chunk.pts = index * AUDIO_FRAME
            chunk.time_base = Fraction(1, AUDIO_RATE)
            container.mux(audio.encode(chunk))
        container.mux(audio.encode(None))


def make(out: Path = ASSETS) -> tuple[Path, Path]:
    """Write placeholder.mp4 and placeholder.jpg into `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    image = card()
    video, thumbnail = out / "placeholder.mp4", out / "placeholder.jpg"
    write_video(image, video)
    image.save(thumbnail, "JPEG", quality=85, optimize=True)
    return video, thumbnail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ASSETS, help="directory to write into")
    video, thumbnail = make(parser.parse_args().out)
    print(f"{video} ({video.stat().st_size} bytes), {thumbnail} ({thumbnail.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
