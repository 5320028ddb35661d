"""Checkpoints carry a checksum of their tensors, checked on load (issue 41, item 3)."""

import pytest
import torch

import pvae
from pvae.checkpoint import CheckpointError, load_checkpoint


def _saved(tmp_path):
    model = pvae.VAE(x_shape=(64,), z_dim=2)
    return model, pvae.save(model, tmp_path / "vae.pt")


def test_a_flipped_byte_in_a_weight_is_an_error_naming_the_file(tmp_path):
    model, path = _saved(tmp_path)
    weight = next(value for value in model.state_dict().values() if value.numel() > 64)
    raw = bytearray(path.read_bytes())
    where = raw.find(weight.detach().contiguous().numpy().tobytes()[:64])
    assert where > 0
    raw[where] ^= 0x01  # the lowest bit of a mantissa: a finite weight, slightly changed
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="checksum") as caught:
        load_checkpoint(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_an_intact_checkpoint_and_an_old_one_without_a_checksum_load(tmp_path):
    model, path = _saved(tmp_path)
    load_checkpoint(path)
    payload = torch.load(path, weights_only=True)
    assert "checksum" in payload
    del payload["checksum"]
    torch.save(payload, path)
    loaded = load_checkpoint(path)  # an older pvae's file: no word
    assert all(torch.equal(value, loaded.model[name])
               for name, value in model.state_dict().items())
