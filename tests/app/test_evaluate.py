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


def test_checkpoints_are_compared_by_the_tightest_estimator_they_share(tmp_path, config, capsys):
    linear = tmp_path / "linear.toml"
    linear.write_text(config.read_text().replace(
        'name = "vae"\nx_shape = [64]\nz_dim = 2\nencoder = { name = "mlp", hidden = [16] }\n'
        'decoder = { name = "mlp", hidden = [16] }', 'name = "linear_gaussian"\ndim = 64\n'
        'z_dim = 2'))
    paths = []
    for name, path in (("linear", linear), ("vae", config)):
        out = tmp_path / name
        assert main(["train", str(path), "--out", str(out), "--no-progress"]) == 0
        paths.append(str(out / "checkpoint.pt"))
    capsys.readouterr()
    assert main(["evaluate", *paths, "--k", "10", "--n", "12", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    # the linear model's exact value is printed, but the comparison is IWAE-10 against IWAE-10
    assert "| exact |" in printed
    assert "by iwae-10, best first" in printed
    table = printed.split("best first")[1]
    assert table.count("| iwae-10 |") == 2 and "| exact |" not in table


def test_generation_reports_each_measure_of_the_samples(tmp_path, config, capsys):
    out = tmp_path / "run"
    assert main(["train", str(config), "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    command = ["evaluate", str(out / "checkpoint.pt"), "--k", "2", "--n", "300",
               "--generation", "--no-progress"]
    assert main(command) == 0
    printed = capsys.readouterr().out
    assert "Generation: 150 draws x ~ p(x | z) against 150 held-out rows" in printed
    for measure in ("| FID |", "| KID |", "| precision, recall |", "| C_T |", "| sharpness |"):
        assert measure in printed
    assert main(command) == 0  # seeded: the same numbers again
    assert capsys.readouterr().out == printed
