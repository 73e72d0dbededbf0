"""Published numbers the tables and the reading stand beside (../shared/anchors.md, pruning)."""

# Han, Pool, Tran, Dally 2015, Tables 1 and 2 and Section 4: LeNet-300-100 on MNIST (Caffe, no
# augmentation; the paper does not state its training or retraining epochs).
HAN = dict(error_before=1.64, error_after=1.59, weights_before=267e3, weights_after=22e3, compression=12,
           layer_kept=dict(fc1=0.08, fc2=0.09, fc3=0.26))

# Frankle and Carbin 2019, Section 2 and Figure 3: LeNet-300-100 on MNIST (55,000 train / 5,000
# validation, no augmentation), Adam 1.2e-3, 50K iterations of batch 60 (about 55 epochs),
# early-stopped on validation loss; 20% of the hidden layers' weights pruned per round.
FRANKLE_CARBIN = ("Frankle and Carbin report, for LeNet-300-100 on MNIST (Adam, about 55 epochs, early-stopped on "
                  "validation loss, 20% of the weights pruned per round), winning tickets that match or beat the "
                  "dense net from 100% down to about 3.6% of the weights (21% the headline), while the same masks "
                  "reinitialized at random fall behind early.")

# An unreviewed repository: MLP 784-512-512-512-10 on Fashion-MNIST, std-threshold pruning with
# retraining (test accuracy, %; its training budget is not stated).
FASHION_REPO = dict(dense=89.66, points=((7.8, 89.47), (11.2, 89.01), (15.95, 88.38)))
