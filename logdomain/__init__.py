"""logdomain: log-domain analog SGD-regression learners, their ideal baselines and comparisons."""

__version__ = "0.1.0"
