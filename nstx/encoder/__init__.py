"""The frozen feature extractor: backbones, their weights, and how they run on a device."""

from nstx.encoder.backbone import Backbone, FeatureExtractor, Normalize

__all__ = ["Backbone", "FeatureExtractor", "Normalize"]
