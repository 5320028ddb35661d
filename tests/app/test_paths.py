"""A checkpoint's data path works from any folder; a moved file is a clear error (issue 41, 3)."""

import numpy as np

from pvae.app.cli import main
from pvae.checkpoint import load_checkpoint

CONFIG = """
[data]
name = "array"
path = "data/rows.npy"

[model]
name = "gaussian"
dim = 3
"""


def test_evaluate_works_from_any_folder_and_a_moved_file_is_one_line(tmp_path, monkeypatch,
                                                                      capsys):
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    np.save(project / "data" / "rows.npy",
            np.random.default_rng(0).normal(size=(60, 3)).astype(np.float32))
    (project / "run.toml").write_text(CONFIG)
    monkeypatch.chdir(project)
    assert main(["train", "run.toml", "--out", "run", "--no-progress"]) == 0
    stored = load_checkpoint(project / "run" / "checkpoint.pt").config.data["path"]
    assert stored == str(project / "data" / "rows.npy")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    checkpoint = str(project / "run" / "checkpoint.pt")
    capsys.readouterr()
    assert main(["evaluate", checkpoint, "--k", "2", "--n", "5", "--no-progress"]) == 0, \
        capsys.readouterr().err
    (project / "data" / "rows.npy").rename(project / "rows.npy")
    capsys.readouterr()
    assert main(["evaluate", checkpoint, "--k", "2", "--n", "5", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(project / "data" / "rows.npy") in err, err
    assert "moved" in err and checkpoint in err, err
