"""Planted bugs in state that outlives one call, which only torch's eval mode and running
statistics can see (tests/test_state_across_calls.py); each class has one bug, named by the class.
The fd- and self-provable ones (AffineRebindsGrads, AddLayerReturnsDoutTwice) live in broken.py."""

from __future__ import annotations

from layer_crosscheck import impl


class DropoutScalesInBothModes(impl.Dropout):
    """Inverted dropout that also divides by ``1 - p`` at test time: training is right, so only a
    check of test mode against the reference's eval mode (the identity) can see it."""

    def forward(self, x, train_flg=True, mask=None):
        out = super().forward(x, train_flg, mask)
        return out if train_flg else out / (1.0 - self.dropout_ratio)


class BatchNormTorchMomentum(impl.BatchNormalization):
    """``momentum`` read as torch's (the weight of the batch), not the book's (the weight of the
    running value): the training outputs and gradients are right, the running statistics drift
    wrongly, and test mode normalizes by them."""

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        super().__init__(gamma, beta, 1.0 - momentum, running_mean, running_var)


class BatchNormBatchStatsAtTest(impl.BatchNormalization):
    """Test mode normalizes by the batch's own statistics instead of the running ones."""

    def forward(self, x, train_flg=True):
        if train_flg:
            return super().forward(x, True)
        kept = self.running_mean.copy(), self.running_var.copy()
        out = super().forward(x, True)  # the batch's statistics, and an update undone here
        self.running_mean[...], self.running_var[...] = kept
        return out
