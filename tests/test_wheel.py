"""What a pip user gets: the built wheel, installed into a fresh venv, trains a shipped config."""

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(out), str(ROOT)],
                   check=True, timeout=300, capture_output=True)
    (built,) = out.glob("pvae_pyro-*.whl")
    return built


def test_the_wheel_carries_configs_types_and_license(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {"pvae/py.typed", "pvae/__init__.pyi"} <= set(names)  # the stub is the face
    assert {f"pvae/configs/{name}.toml" for name in ("digits_vae", "mnist_vae")} <= set(names)
    assert any(name.endswith("licenses/LICENSE") for name in names)
    assert not any(name.startswith(("tests/", "benchmarks/")) for name in names)


def test_a_fresh_venv_with_the_wheel_trains_a_shipped_config_by_name(wheel, tmp_path):
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    # the dependencies come from this environment (no download); pvae only from the wheel
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], check=True, capture_output=True, text=True)
    Path(site.stdout.strip(), "dependencies.pth").write_text(sysconfig.get_paths()["purelib"])
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)],
                   check=True, timeout=300, capture_output=True)
    environment = {**os.environ, "PYTHONPATH": ""}
    run = subprocess.run([str(target / "bin" / "pvae"), "train", "digits_vae", "--out",
                          str(tmp_path / "run"), "--set", "train.epochs=1", "--set",
                          "data.validation=20", "--no-progress"], cwd=tmp_path,
                         env=environment, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "run" / "checkpoint.pt").is_file()
    where = subprocess.run([str(python), "-c", "import pvae; print(pvae.__file__)"],
                           cwd=tmp_path, check=True, capture_output=True, text=True)
    assert str(target) in where.stdout  # the wheel's pvae, not the clone's
    listed = subprocess.run([str(target / "bin" / "pvae"), "configs"], cwd=tmp_path,
                            check=True, capture_output=True, text=True)
    assert "digits_vae" in listed.stdout
