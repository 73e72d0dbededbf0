"""Published Colored MNIST numbers, each with the conditions it was obtained under (not re-run here)."""
from typing import NamedTuple


class Anchor(NamedTuple):
  contender: str       # a key of contenders.CONTENDERS
  rule: str            # how the source chose hyperparameters / the reported step
  train: float = None  # accuracy on the training environments, %; None where not published
  test: float = None   # accuracy on the test environment (colour agreeing 10%), %
  source: str = ""
  conditions: str = ""


IRM_REPO = ("IRM repository, reproduce_paper_results_output.txt (Arjovsky et al. 2019), mean ± std over "
            "10 restarts")
IRM_CONDITIONS = ("MNIST's first 50,000 training digits, 25,000 per training environment (e = 0.2, 0.1), "
                  "the 10,000 others the test environment (e = 0.9), 14x14; 501 full-batch Adam steps, "
                  "L2 ~1e-3, hidden 256 (ERM), 390 (IRM), 83 (grayscale); IRM's and the grayscale model's "
                  "hyperparameters from 50 random draws maximizing min(train env 0, train env 1, test acc); "
                  "the last step reported, no early stopping")
DOMAINBED = "DomainBed (Gulrajani and Lopez-Paz 2021), ColoredMNIST, test environment -90%, 3 trials"
DOMAINBED_CONDITIONS = ("all 70,000 MNIST digits in three environments (+90%, +80%, -90%) at 28x28, DomainBed's "
                        "MNIST ConvNet, 5,000 steps, 20 random hyperparameter draws; training-domain validation "
                        "holds out 20% of each training environment, the oracle 20% of the test environment")

ANCHORS = (
    Anchor("erm", "last step", 87.4, 17.1, IRM_REPO + ": ERM 87.4 ± 0.2 / 17.1 ± 0.7", IRM_CONDITIONS),
    Anchor("irm", "last step, tuned on min(train, test)", 70.8, 66.9, IRM_REPO + ": IRM 70.8 ± 0.9 / 66.9 ± 2.5",
           IRM_CONDITIONS),
    Anchor("gray", "last step, tuned on min(train, test)", 73.5, 73.0,
           IRM_REPO + ": grayscale 73.5 ± 0.2 / 73.0 ± 0.5 (optimum 75)", IRM_CONDITIONS),
    Anchor("erm", "training-domain validation", None, 10.0, DOMAINBED, DOMAINBED_CONDITIONS),
    Anchor("irm", "training-domain validation", None, 10.2, DOMAINBED, DOMAINBED_CONDITIONS),
    Anchor("dro", "training-domain validation", None, 10.0, DOMAINBED, DOMAINBED_CONDITIONS),
    Anchor("vrex", "training-domain validation", None, 10.2, DOMAINBED, DOMAINBED_CONDITIONS),
    Anchor("erm", "oracle (test-domain validation)", None, 28.7, DOMAINBED, DOMAINBED_CONDITIONS),
    Anchor("irm", "oracle (test-domain validation)", None, 58.5, DOMAINBED, DOMAINBED_CONDITIONS),
)
# Every number is on MNIST; none is quoted for Colored Fashion-MNIST.
OPTIMUM = 75.0  # with 25% label noise, the best any function of the shape alone can do in every environment
