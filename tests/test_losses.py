import pytest
import torch

from textgan.losses import critic_loss, generator_loss, wasserstein_estimate

pytestmark = pytest.mark.numerics


def test_losses_on_hand_values():
    d_real = torch.tensor([1.0, 2.0, 3.0, 6.0])      # mean 3
    d_fake = torch.tensor([-1.0, 0.0, 0.5, 0.5])     # mean 0
    assert critic_loss(d_real, d_fake, torch.tensor(0.25)).item() == pytest.approx(0 - 3 + 0.25)
    assert critic_loss(d_real, d_fake, 0.0).item() == pytest.approx(-3.0)
    assert generator_loss(d_fake).item() == pytest.approx(0.0)
    assert generator_loss(d_real).item() == pytest.approx(-3.0)
    assert wasserstein_estimate(d_real, d_fake).item() == pytest.approx(3.0)


def test_critic_loss_is_minus_estimate_plus_penalty_and_differentiable():
    d_real = torch.tensor([[0.5], [1.5]], requires_grad=True)   # [B, 1] works too
    d_fake = torch.tensor([[2.0], [-1.0]], requires_grad=True)
    loss = critic_loss(d_real, d_fake, torch.tensor(4.0))
    assert loss.item() == pytest.approx(-wasserstein_estimate(d_real, d_fake).item() + 4.0)
    assert loss.item() == pytest.approx(0.5 - 1.0 + 4.0)
    loss.backward()
    torch.testing.assert_close(d_real.grad, torch.full((2, 1), -0.5))
    torch.testing.assert_close(d_fake.grad, torch.full((2, 1), 0.5))
