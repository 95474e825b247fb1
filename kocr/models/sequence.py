"""Sequence modelling stage of the clovaai four-stage model."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class BidirectionalLSTM(nn.Module):
    """One BiLSTM layer followed by a Linear projection (clovaai/EasyOCR names ``rnn``, ``linear``).

    The LSTM output is ``[forward half, reverse half]`` along the feature axis; both ``bias_ih`` and
    ``bias_hh`` are used, exactly as ``nn.LSTM`` does, so clovaai weights load and behave unchanged.

    With ``lengths`` (valid frames per sample) the reverse direction starts at each sample's own last
    frame instead of the batch's: a line's output no longer depends on how much padding its batch
    neighbours force on it. The forward direction needs nothing (frames after a line's end come after
    its valid outputs); the reverse one runs on each sample's valid frames flipped in place, with the
    same weights, so the result equals running the line alone.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.rnn = nn.LSTM(input_size, hidden_size, bidirectional=True, batch_first=True)
        self.linear = nn.Linear(hidden_size * 2, output_size)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """[B, T, input_size] -> [B, T, output_size]; frames at or after ``lengths[b]`` are undefined."""
        if lengths is None:
            if isinstance(self.rnn, nn.LSTM):  # not a quantised one, which keeps packed weights
                self.rnn.flatten_parameters()  # keeps cuDNN happy after .to()/DataParallel replication
            recurrent, _ = self.rnn(x)
        else:
            flip = flip_index(lengths, x.shape[1]).unsqueeze(-1).expand_as(x)
            forward = self._direction(x, reverse=False)
            backward = self._direction(x.gather(1, flip), reverse=True)
            recurrent = torch.cat([forward, backward.gather(1, flip[..., :1].expand_as(backward))], dim=2)
        return self.linear(recurrent)

    def _direction(self, x: Tensor, *, reverse: bool) -> Tensor:
        """One direction of the BiLSTM run forward over ``x`` with that direction's weights."""
        suffix = "_reverse" if reverse else ""
        rnn = self.rnn
        weights = [
            getattr(rnn, f"{name}_l0{suffix}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        ]
        state = x.new_zeros(1, x.shape[0], rnn.hidden_size)
        output, _, _ = torch.lstm(x, (state, state), weights, True, 1, 0.0, self.training, False, True)
        return output


def flip_index(lengths: Tensor, steps: int) -> Tensor:
    """``[B, steps]`` time indices that reverse each row's first ``lengths[b]`` frames and keep the rest:
    gathering with it twice gives the identity."""
    time = torch.arange(steps, device=lengths.device).unsqueeze(0)
    last = lengths.to(time.dtype).unsqueeze(1) - 1
    return torch.where(time <= last, last - time, time)
