"""What the image installs is fixed and checked: floors past known advisories, a hashed lock that
matches pyproject.toml, a fixed base image (security review F-13)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from bot.config import PROJECT_ROOT

# The first release of each package past the advisories the review lists.
FIXED = {
    "starlette": "1.3.1",
    "python-multipart": "0.0.30",
    "jinja2": "3.1.6",
    "h11": "0.16",
}


def requirements() -> dict[str, Requirement]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    found = [Requirement(line) for line in project["dependencies"]]
    return {canonicalize_name(requirement.name): requirement for requirement in found}


@pytest.mark.parametrize("name", sorted(FIXED))
def test_no_release_with_a_known_advisory_satisfies_the_floor(name: str) -> None:
    requirement = requirements()[name]
    floors = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
    assert floors, f"{name} has no floor"
    assert max(floors) >= Version(FIXED[name])


def test_every_locked_package_carries_a_hash() -> None:
    text = (PROJECT_ROOT / "requirements.lock").read_text()
    entries = re.split(r"\n(?=\S)", text.strip())
    pinned = [entry for entry in entries if not entry.startswith("#")]
    assert len(pinned) > 20
    for entry in pinned:
        assert re.match(r"^[A-Za-z0-9_.-]+==\S+", entry), entry
        assert "--hash=sha256:" in entry, entry.splitlines()[0]
    locked = {canonicalize_name(entry.split("==")[0]) for entry in pinned}
    assert set(requirements()) <= locked


def test_the_image_installs_the_lock_by_hash_on_a_fixed_base() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    base = re.search(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert base is not None
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base.group(1))
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "pip install --no-cache-dir --no-deps ." in dockerfile


@pytest.mark.skipif(not (PROJECT_ROOT / ".venv/bin/uv").exists(), reason="uv is not installed")
def test_the_lock_check_catches_a_dependency_added_without_locking(tmp_path: Path) -> None:
    """scripts/lock --check on a copy whose pyproject.toml names one more package."""
    for name in ("pyproject.toml", "uv.lock", "requirements.lock", "README.md"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    (tmp_path / "scripts").mkdir()
    shutil.copy(PROJECT_ROOT / "scripts/lock", tmp_path / "scripts/lock")
    (tmp_path / ".venv/bin").mkdir(parents=True)
    (tmp_path / ".venv/bin/uv").symlink_to(PROJECT_ROOT / ".venv/bin/uv")

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "scripts/lock", "--check"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert check().returncode == 0
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"click>=8.1",', '"click>=8.1", "six",'))
    failed = check()
    assert failed.returncode == 1
    assert "run scripts/lock" in failed.stderr


def test_scripts_install_system_packages_one_at_a_time() -> None:
    """Two test runs on one machine must not fail on each other's apt lock: every install or
    list update goes through scripts/apt, which waits its turn."""
    for script in sorted((PROJECT_ROOT / "scripts").iterdir()):
        if script.name == "apt":
            continue
        for line in script.read_text(encoding="utf-8").splitlines():
            code = line.split("#", 1)[0]
            if code.lstrip().startswith("echo"):  # advice to a person, not a run
                continue
            assert not re.search(r"\bapt-get (update|install)\b", code), (script.name, line)
