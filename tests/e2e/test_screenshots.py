"""The README's screenshots are made by `scripts/screenshots` from the demo: its core runs
here against a real stack (media must flow, or it fails), and the committed pictures are
there, the sizes the README promises, and shown by the README."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tests.support.screenshots import SHOTS, make_screenshots
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "screenshots"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


async def test_the_script_makes_the_three_screenshots_from_the_demo(
    stack: Stack, tmp_path: Path
) -> None:
    paths = await make_screenshots(stack, tmp_path)
    assert [path.name for path in paths] == [shot.file for shot in SHOTS]
    for shot, path in zip(SHOTS, paths, strict=True):
        assert png_size(path) == (shot.width, shot.height)


def test_the_readme_shows_the_committed_screenshots() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "scripts/screenshots" in readme
    for shot in SHOTS:
        path = COMMITTED / shot.file
        assert png_size(path) == (shot.width, shot.height)
        assert path.stat().st_size < 400_000, f"{shot.file} is too large for the README"
        assert f"docs/screenshots/{shot.file}" in readme
