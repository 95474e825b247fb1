"""Sequence modelling stage of the clovaai four-stage model."""

from __future__ import annotations

from torch import Tensor, nn


class BidirectionalLSTM(nn.Module):
    """One BiLSTM layer followed by a Linear projection (clovaai/EasyOCR names ``rnn``, ``linear``).

    The LSTM output is ``[forward half, reverse half]`` along the feature axis; both ``bias_ih`` and
    ``bias_hh`` are used, exactly as ``nn.LSTM`` does, so clovaai weights load and behave unchanged.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.rnn = nn.LSTM(input_size, hidden_size, bidirectional=True, batch_first=True)
        self.linear = nn.Linear(hidden_size * 2, output_size)

    def forward(self, x: Tensor) -> Tensor:
        """[B, T, input_size] -> [B, T, output_size]."""
        self.rnn.flatten_parameters()  # keeps cuDNN happy after .to()/DataParallel replication
        recurrent, _ = self.rnn(x)
        return self.linear(recurrent)
