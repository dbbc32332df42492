#!/usr/bin/env python3
"""Regenerates the sample images (needs Pillow: `pip install pillow`).

The images are drawn here, not downloaded: a small gradient with a capfile-ish
mark, saved once per format the README and the tests use.
"""
from pathlib import Path

from PIL import Image, ImageDraw

here = Path(__file__).resolve().parent
img = Image.new("RGB", (64, 48))
for x in range(64):
    for y in range(48):
        img.putpixel((x, y), (x * 4, y * 5, 160))
draw = ImageDraw.Draw(img)
draw.rectangle((8, 8, 28, 40), outline=(255, 255, 255), width=2)
draw.ellipse((34, 12, 58, 36), fill=(250, 200, 40))

img.save(here / "sample.png", optimize=True)
img.save(here / "sample.jpg", quality=85)
img.convert("P", palette=Image.Palette.ADAPTIVE, colors=32).save(here / "sample.gif")
img.save(here / "sample.webp", quality=80)
