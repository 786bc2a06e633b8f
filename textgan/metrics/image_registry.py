"""What the image metrics mean, for tables with a "better" column.

`textgan.metrics.METRICS` is text-only (its functions read a TextComparison);
image metrics are computed by `points`, `classifier` and `inception` directly,
and this dict only describes the keys they write to metrics.jsonl.

``better`` is "higher", "lower", or "closer to real" (compare with the value
the real data itself gets, the floor)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageMetric:
    name: str
    better: str            # "higher" | "lower" | "closer to real"
    description: str

    @property
    def higher_is_better(self) -> bool | None:
        """True / False, or None when neither extreme is best."""
        return {"higher": True, "lower": False}.get(self.better)


IMAGE_METRICS: dict[str, ImageMetric] = {m.name: m for m in [
    ImageMetric("w1", "lower", "exact Wasserstein-1 distance between generated and real 2-D points "
                "(optimal assignment, equal sample sizes)"),
    ImageMetric("modes", "higher", "mixture modes holding at least ceil(0.2 * N / K) generated points "
                "within 3 std of their centre"),
    ImageMetric("within_3sigma", "closer to real", "share of generated points within 3 std of their nearest "
                "centre (real data: about 0.989 in 2-D)"),
    ImageMetric("classifier_score", "higher", "Inception-score formula on textgan's MNIST classifier "
                "(at most 10; real digits score about 9.4)"),
    ImageMetric("fd", "lower", "Frechet distance on the MNIST classifier's 128-d penultimate features"),
    ImageMetric("inception_score", "higher", "Inception score, TF-compatible InceptionV3 (10 splits)"),
    ImageMetric("fid", "lower", "Frechet Inception distance on 2048-d pool features"),
]}

__all__ = ["ImageMetric", "IMAGE_METRICS"]
