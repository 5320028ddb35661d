"""The classifier feature map: accurate, seeded, cached, and refusing bad labels."""

import pytest
import torch

import pvae
from pvae.data import digits
from pvae.estimate import features as features_module
from pvae.estimate.features import cache_directory, classifier_features


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PVAE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def images():
    return digits()


def test_the_classifier_tells_the_digits_apart_and_is_cached(cache, images, monkeypatch):
    found = classifier_features(images.train, images.train_labels)
    assert found.accuracy > 0.9 and found.path.parent == cache == cache_directory()
    assert found(images.test).shape == (len(images.test), 64)

    def refuse(*args):
        raise AssertionError("trained again although cached")

    monkeypatch.setattr(features_module, "_train", refuse)
    again = classifier_features(images.train, images.train_labels)
    assert torch.equal(again(images.test), found(images.test))
    assert again.accuracy == found.accuracy


def test_the_same_seed_trains_the_same_features_and_another_does_not(cache, images):
    first = classifier_features(images.train, images.train_labels, epochs=2, cache=False)
    second = classifier_features(images.train, images.train_labels, epochs=2, cache=False)
    other = classifier_features(images.train, images.train_labels, epochs=2, seed=1,
                                cache=False)
    assert torch.equal(first(images.test), second(images.test))
    assert not torch.equal(first(images.test), other(images.test))
    assert not any(cache.glob("*")) if cache.exists() else True


def test_a_damaged_cache_file_is_trained_again_with_a_warning(cache, images):
    found = classifier_features(images.train, images.train_labels, epochs=1)
    found.path.write_bytes(b"not a checkpoint")
    with pytest.warns(UserWarning, match="unreadable .*training it again"):
        again = classifier_features(images.train, images.train_labels, epochs=1)
    assert torch.equal(again(images.test), found(images.test))


def test_classifier_features_separate_a_copycat_from_the_data(cache, images):
    features = classifier_features(images.train, images.train_labels, epochs=5)
    held_out = pvae.fidelity(images.train[:400], images.test, features=features)
    noise = pvae.fidelity(torch.rand(400, 64, generator=torch.Generator().manual_seed(0)),
                          images.test, features=features)
    assert held_out.fid < noise.fid and held_out.features == "ClassifierFeatures"


@pytest.mark.parametrize(("labels", "match"), [
    (torch.zeros(3, dtype=torch.long), r"one integer class per image \(1438\)"),
    (None, "one integer class per image"),
    ("float", "one integer class per image"),
    ("negative", "got -1 to 8"),
])
def test_bad_labels_are_one_line(cache, images, labels, match):
    if labels is None:
        labels = images.train_labels[:, None]
    elif labels == "float":
        labels = images.train_labels.float()
    elif labels == "negative":
        labels = images.train_labels - 1
    with pytest.raises(pvae.DataError, match=match):
        classifier_features(images.train, labels, epochs=1)


@pytest.mark.parametrize(("labels", "match"), [
    (torch.zeros(1438, dtype=torch.long), "at least 2 classes with 10 images"),
    ("huge", "below the number of images"),
    (["a"] * 1438, "labels must be integer classes"),
])
def test_labels_that_cannot_teach_features_are_refused(cache, images, labels, match):
    if isinstance(labels, str):
        labels = torch.where(images.train_labels == 9, 10**6, images.train_labels)
    with pytest.raises(pvae.DataError, match=match):
        classifier_features(images.train, labels, epochs=1)


def test_settings_are_checked(cache, images):
    with pytest.raises(TypeError, match="cache must be"):
        classifier_features(images.train, images.train_labels, cache="no")
    with pytest.raises(ValueError, match="seed must be an integer"):
        classifier_features(images.train, images.train_labels, seed=None)


def test_an_unwritable_cache_warns_and_the_features_still_come(tmp_path, monkeypatch, images):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv("PVAE_CACHE", str(blocker / "cache"))
    with pytest.warns(UserWarning, match="could not cache the classifier"):
        found = classifier_features(images.train, images.train_labels)
    assert found.path is None and found(images.test).shape == (len(images.test), 64)


def test_a_cache_file_of_nan_weights_is_trained_again(cache, images):
    found = classifier_features(images.train, images.train_labels, epochs=1)
    saved = torch.load(found.path, weights_only=True)
    saved["state"] = {name: torch.full_like(value, float("nan"))
                      for name, value in saved["state"].items()}
    torch.save(saved, found.path)
    with pytest.warns(UserWarning, match="unreadable"):
        again = classifier_features(images.train, images.train_labels, epochs=1)
    assert torch.isfinite(again(images.test)).all()
