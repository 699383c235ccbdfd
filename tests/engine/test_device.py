"""device_of: where a network is, from its parameters, then its buffers, else the CPU."""
import torch
from torch import nn

from gan_studio.engine.device import device_of


class _BufferOnly(nn.Module):
    def __init__(self, device: str = "cpu") -> None:
        super().__init__()
        self.register_buffer("stat", torch.zeros(2, device=device))


def test_device_of_parameters_buffers_and_nothing():
    assert device_of(nn.Linear(2, 3)) == torch.device("cpu")
    assert device_of(_BufferOnly()) == torch.device("cpu")
    assert device_of(nn.ReLU()) == torch.device("cpu")      # no tensors at all
    assert device_of(nn.Sequential()) == torch.device("cpu")


def test_device_of_follows_the_module_to_meta():
    """The meta device stands in for a second device: the answer follows .to()."""
    assert device_of(nn.Linear(2, 3).to("meta")) == torch.device("meta")
    assert device_of(_BufferOnly("meta")) == torch.device("meta")


def test_parameters_before_buffers():
    net = nn.Sequential(_BufferOnly("meta"), nn.Linear(2, 2))   # buffer first in order, parameter on the CPU
    assert device_of(net) == torch.device("cpu")
