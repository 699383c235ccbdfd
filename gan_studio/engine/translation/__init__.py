"""Image-to-image translation (issue 23): pix2pix, CycleGAN, DiscoGAN, DualGAN, SRResNet and SRGAN models.

The public API (what the Translate tab and the CLI use):

    from gan_studio.engine.translation import Translator, save_random_translator

    t = Translator.open("mnist-pix2pix-strokes", device="cpu")    # a catalogue name or a .safetensors path
    t.family          # "pix2pix" | "cyclegan" | "discogan" | "dualgan" | "srresnet" | "srgan"
    t.kind            # "paired" (A -> B) | "cycle" (A <-> B, unpaired) | "sr" (super-resolution, A -> B)
    t.drawable        # True: domain A is a pen drawing (white strokes on black) a canvas can make
    t.pen_width       # the training strokes' pen in pixels at input size (3 for "strokes"), or None
    t.domains         # ("strokes", "digits"): the names of A and B
    t.directions      # ("a2b",) or ("a2b", "b2a") for cycle models
    t.input_shape     # (C, H, W) of A, e.g. (1, 28, 28); t.input_size, t.in_channels
    t.output_shape    # (C, H, W) of B, e.g. (1, 28, 28); t.output_size, t.out_channels
    t.upscale_factor  # 4 for a x4 super-resolution model (7 -> 28 px), 1 otherwise
    t.transform       # the named transform (data/transforms.py) that derived A from B in training, or None

    y = t.translate(x, direction="a2b")   # x (N, C, H, W) or (C, H, W) float in [-1, 1] -> the other domain, float32
                                          # on the CPU; a wrong shape / channel count / direction: one UserError line
    r = t.round_trip(x, "a2b")            # cycle models: A -> B -> A (the cycle's reconstruction)
    up = t.bicubic(x)                     # sr models: the bicubic up-scaling baseline
    a = t.derive_input(b)                 # a B image (e.g. a sample digit) as this model's input (its strokes)
    x = t.load_image("drawing.png")       # any image file fitted to the input: (1, C, H, W) in [-1, 1]

    save_random_translator("/tmp/p2p.safetensors", "pix2pix")   # random weights, tiny widths, the real file format
    save_random_translator("/tmp/sr.safetensors", "srgan")      # 7 -> 28 px (upscale 4)

Values are in [-1, 1] (black -1, white +1), as in the rest of GAN Studio. Translation is deterministic (eval mode:
pix2pix's dropout is off, batch norm uses its running statistics) and thread-safe for one caller at a time.

Training (the training loop's Progress generator: the Training tab and `gan-studio train-translation` alike):

    cfg = translation_config("pix2pix", "../shared/data/mnist", steps=4000, batch=16,
                             options={"transform": "strokes", "domains": "strokes,digits"})   # TrainConfig fields too
    for p in train_translation(cfg, "out.safetensors", resume=False): ...   # p.step, p.losses, p.samples, p.checkpoint
    RECIPE_NAMES; default_loss("cyclegan") == "lsgan"; recipe_class("cyclegan").options_table()  # {name: (default,
                                                                                  # kind, bounds, tip)} for a form
Measuring: `metrics/translation.py` (`evaluate_translator`; `gan-studio evaluate` on a translation model).
"""
from .api import DIRECTIONS, Translator, open_translator, save_random_translator  # noqa: F401
from .meta import FAMILIES, translation_meta  # noqa: F401
from .train import (  # noqa: F401  (importing it registers the recipes)
    RECIPE_NAMES,
    default_loss,
    recipe_class,
    train_translation,
    translation_config,
)
