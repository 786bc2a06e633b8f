"""Generator/critic pairs: the paper's text model, a small image pair, a toy MLP pair."""
from textgan.models.image import ImageCritic, ImageGenerator
from textgan.models.text import Critic, Generator, ResBlock, build_text_models, tflib_init_
from textgan.models.toy import ToyCritic, ToyGenerator

__all__ = ["Generator", "Critic", "ResBlock", "build_text_models", "tflib_init_",
           "ImageGenerator", "ImageCritic", "ToyGenerator", "ToyCritic"]
