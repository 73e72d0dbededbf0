"""The exact CIFAR-10 setting of He et al. 2016 (Section 4.2), as config overrides of this experiment.

  make resnet ARGS="$(.venv/bin/python -m experiments.resnet_ladder.recipes)"   # on a GPU with tfds:cifar10

Not run here (hours on an accelerator; days on 2 CPU cores). Where the engine differs from the paper,
the override says so rather than pretends:
- no data augmentation (the paper pads by 4 pixels, crops 32x32 at random and flips): the engine
  trains on the arrays as they are, so expect a few points more test error than the paper's Table 6;
- the learning rate is 0.1 divided by 10 at 32k and 48k iterations in the paper; the engine's schedules
  are constant or cosine, and cosine decay to 0 over the 182 epochs of 64k iterations is used;
- the paper trains on all 50,000 images for 64k iterations (a budget it chose on a 45k/5k split) and
  reports the last iterate; here 5,000 are held out as the project's validation split, patience 0
  trains every one of the 183 epochs (64k iterations of 351 steps), and the best-validation epoch is
  the one evaluated on the test set.
"""
import math

HE_ITERATIONS = 64_000
HE_TRAIN = 45_000  # 50,000 CIFAR-10 training images less the 5,000 held out
HE_BATCH = 128

HE_CIFAR10 = dict(
    dataset="tfds:cifar10", resize=0, n_train=0, val_size=5000,
    blocks=[3, 5, 7, 9, 18], widths=[16, 32, 64],     # ResNet-20/32/44/56/110 and plain-20/32/44/56/110
    optimizer="momentum_l2", learning_rates=[0.1], momentum=0.9, weight_decay=1e-4, batch_size=HE_BATCH,
    epochs=math.ceil(HE_ITERATIONS / (HE_TRAIN // HE_BATCH)), patience=0, schedule="cosine",
    warmup_epochs=0.0, seeds=5)


def overrides(recipe=None):
  """`--config.key=value` arguments for `python -m research run resnet` (the Makefile's ARGS)."""
  text = lambda v: f"[{','.join(map(str, v))}]" if isinstance(v, list) else str(v)
  return " ".join(f"--config.{k}={text(v)}" for k, v in (recipe or HE_CIFAR10).items())


if __name__ == "__main__":
  print(overrides())
