"""No product folder holds more than 20 modules side by side (issue 22): past that, a folder stops showing
the architecture and a newcomer reads a list instead. A package that grows splits into subpackages."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("controller", "webapp", "sandbox", "moto_ext", "rehearsal", "bench")
MOST_MODULES = 20


def modules_by_folder(root: Path) -> dict[str, int]:
    """Each folder under the product packages, with its modules (`__init__.py` aside)."""
    counts: dict[str, int] = {}
    for package in PRODUCT:
        for folder in [root / package, *(root / package).rglob("*")]:
            if folder.is_dir() and folder.name != "__pycache__":
                modules = [m for m in folder.glob("*.py") if m.name != "__init__.py"]
                counts[str(folder.relative_to(root))] = len(modules)
    return counts


def test_no_product_folder_holds_more_than_20_modules() -> None:
    counts = modules_by_folder(ROOT)
    assert counts["controller/shell"] > 0 and counts["moto_ext/elasticbeanstalk"] > 0  # the walk finds them
    crowded = {folder: n for folder, n in counts.items() if n > MOST_MODULES}
    assert not crowded, f"more than {MOST_MODULES} modules (split into subpackages): {crowded}"


def test_a_folder_of_21_modules_is_named(tmp_path: Path) -> None:
    crowded = tmp_path / "controller" / "shell"
    crowded.mkdir(parents=True)
    for n in range(MOST_MODULES + 1):
        (crowded / f"m{n}.py").write_text("")
    (crowded / "__init__.py").write_text("")
    assert modules_by_folder(tmp_path)["controller/shell"] == MOST_MODULES + 1
