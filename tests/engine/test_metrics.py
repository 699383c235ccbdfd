"""FID and precision/recall in the shipped lenet-mnist feature space, on real MNIST."""
import pytest
import torch
import torch.nn.functional as F

from gan_studio.engine.data import load_images
from gan_studio.engine.metrics.features import get_extractor
from gan_studio.engine.metrics.fid import fid_from_features, frechet_distance
from gan_studio.engine.metrics.prdc import density_coverage, knn_radii, precision_recall

N = 2000


@pytest.fixture(scope="module")
def real(mnist_dir):
    train, test = load_images(mnist_dir, "train"), load_images(mnist_dir, "test")
    return train.as_float(index=slice(0, N)), test.as_float(index=slice(0, N))


@pytest.fixture(scope="module")
def ex():
    return get_extractor("lenet-mnist")


def test_frechet_distance_of_known_gaussians():
    import numpy as np
    mu, s = np.zeros(3), np.eye(3)
    assert frechet_distance(mu, s, mu, s) == pytest.approx(0, abs=1e-9)
    # N(0, I) vs N(1, 4I) in 3-d: |mu|^2 = 3, tr(I + 4I - 2*2I) = 3
    assert frechet_distance(mu, s, mu + 1, 4 * s) == pytest.approx(6.0)


def test_fid_train_vs_test_small_and_monotone_in_noise_and_blur(real, ex):
    train, test = real
    f_test = ex(test)
    base = fid_from_features(ex(train), f_test)
    g = torch.Generator().manual_seed(0)
    noisy = [fid_from_features(f_test, ex((train + s * torch.randn(train.shape, generator=g)).clamp(-1, 1)))
             for s in (0.1, 0.25, 0.5, 1.0)]
    blurred = [fid_from_features(f_test, ex(F.avg_pool2d(train, k, stride=1, padding=k // 2)))
               for k in (3, 5, 7)]
    assert noisy == sorted(noisy) and blurred == sorted(blurred), (noisy, blurred)
    assert base < noisy[1] / 2 and base < blurred[0]
    assert noisy[-1] > 20 * base


def test_features_and_fid_do_not_depend_on_batch_size(real, ex):
    train, test = real
    a, b = ex(train, batch_size=500), ex(train, batch_size=37)
    assert (a - b).abs().max() < 1e-4
    f_test = ex(test)
    assert fid_from_features(a, f_test) == pytest.approx(fid_from_features(b, f_test), rel=1e-5)


def test_precision_recall_density_coverage(real, ex):
    train, test = real
    ft, fs = ex(train), ex(test)
    p, r = precision_recall(ft, fs, k=3)
    assert p > 0.75 and r > 0.75
    ones = ex(test[torch.argsort(test.mean((1, 2, 3)))[:200]].repeat(10, 1, 1, 1))  # little variety
    p2, r2 = precision_recall(ft, ones, k=3)
    assert r2 < r / 2
    d, c = density_coverage(ft, fs, k=5)
    assert 0.6 < d < 1.5 and c > 0.7


def test_knn_radii_exclude_the_point_itself():
    x = torch.tensor([[0.0], [1.0], [3.0]], dtype=torch.float64)
    assert knn_radii(x, 1).tolist() == [1.0, 1.0, 2.0]


def test_lenet_is_a_real_classifier(mnist_dir, ex):
    assert ex.meta["metrics"]["test_accuracy"] > 0.98
    assert "train-classifier" in ex.meta["training"]["command"]
