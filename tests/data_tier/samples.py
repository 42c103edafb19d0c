"""Location of ../shared/data (next to the repository) for the data tier."""

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SAMPLES = DATA / "samples"
FER2013 = DATA / "fer2013"


def require(path: Path) -> Path:
    """Skip the calling test, with the reason, when ``path`` is absent."""
    if not path.exists():
        pytest.skip(f"data tier: {path} is absent (it lives in ../shared/data next to the repository)")
    return path
