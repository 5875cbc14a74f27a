"""A drawn, benign demo image (a test card) for the demo bank and the docs' examples."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def demo_image(size: tuple[int, int] = (640, 480)) -> bytes:
    width, height = size
    image = Image.new("RGB", size, (30, 30, 40))
    draw = ImageDraw.Draw(image)
    colours = [(230, 230, 230), (230, 200, 40), (40, 200, 210), (60, 190, 60), (200, 60, 200)]
    bar = width // len(colours)
    for i, colour in enumerate(colours):
        draw.rectangle([i * bar, 0, (i + 1) * bar, height * 2 // 3], fill=colour)
    draw.ellipse(
        [width // 3, height // 4, width * 2 // 3, height * 3 // 4], outline=(0, 0, 0), width=9
    )
    for x in range(0, width, 32):
        draw.line([x, height * 2 // 3, x + 16, height], fill=(250, 250, 250), width=5)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()
