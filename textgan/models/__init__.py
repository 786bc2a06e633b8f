"""Generator/critic pairs: the paper's text model, its image networks (MNIST, CIFAR-10 ResNet,
64x64 ResNet) and its toy MLP pair."""
from textgan.models.image import (MnistCritic, MnistGenerator, ResNet32Critic, ResNet32Generator,
                                  ResNet64Critic, ResNet64Generator, build_image_models)
from textgan.models.text import Critic, Generator, ResBlock, build_text_models, tflib_init_
from textgan.models.toy import ToyCritic, ToyGenerator

__all__ = ["Generator", "Critic", "ResBlock", "build_text_models", "tflib_init_",
           "MnistGenerator", "MnistCritic", "ResNet32Generator", "ResNet32Critic",
           "ResNet64Generator", "ResNet64Critic", "build_image_models", "ToyGenerator", "ToyCritic"]
