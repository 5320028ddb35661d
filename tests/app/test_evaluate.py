"""``pvae evaluate --seed``: every number it prints is repeatable to the bit."""

from pvae.app.cli import main


def test_the_same_seed_prints_the_same_tables_and_another_seed_does_not(tmp_path, config,
                                                                         capsys):
    out = tmp_path / "run"
    assert main(["train", str(config), "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    checkpoint = str(out / "checkpoint.pt")
    command = ["evaluate", checkpoint, "--k", "10", "--n", "12", "--ais", "3", "--chains", "2",
               "--bdmc", "4", "--gaps", "--usage", "--holes", "--no-progress"]
    printed = []
    for seed in ("0", "0", "1"):
        assert main([*command, "--seed", seed]) == 0
        printed.append(capsys.readouterr().out)
    assert printed[0] == printed[1]
    assert printed[0] != printed[2]
    assert main(command) == 0  # no --seed: seed 0
    assert capsys.readouterr().out == printed[0]
