"""The published numbers the ladder is read against (shared/anchors.md of the project), with their conditions."""

# He, Zhang, Ren, Sun 2016, Table 6: CIFAR-10 test error (%) of ResNets with 6n + 2 layers (16/32/64
# channels, 32x32 input), SGD with momentum 0.9, weight decay 1e-4, batch 128, lr 0.1 divided by 10
# at 32k and 48k iterations, stopped at 64k; 4-pixel padding, random 32x32 crops and flips.
HE_RESNET_TEST_ERROR = {20: 8.75, 32: 7.51, 44: 7.17, 56: 6.97, 110: 6.43}
HE_CONDITIONS = ("He et al. 2016 (CIFAR-10, 50k training images, 16/32/64 channels on 32x32, SGD momentum 0.9, "
                 "weight decay 1e-4, lr 0.1 / 10 at 32k and 48k iterations, 64k iterations, with translation and "
                 "flip augmentation)")
# Their Figure 6 (left): plain-56 has higher training and test error than plain-20 (the degradation
# problem), read off the curves, not tabulated.
HE_PLAIN_FINDING = "plain-56 worse than plain-20 in both training and test error (their Figure 6)"

# Fashion-MNIST benchmark (zalandoresearch/fashion-mnist README), test accuracy (%).
FASHION_BENCHMARK = (("3 conv + BN, no augmentation", 90.3), ("5 conv + BN, no augmentation", 93.1),
                     ("ResNet18, with augmentation", 94.9))
