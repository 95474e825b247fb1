"""CNN feature extractors of the clovaai four-stage model (VGG and ResNet), with clovaai's parameter names.

Both take ``[B, input_channel, H, W]`` and return ``[B, output_channel, H', W']``; names and shapes match
``FeatureExtraction.ConvNet.*`` in clovaai and EasyOCR checkpoints. Widths are not fixed: the time axis
is ``W' = W/4 - 1`` (VGG) or ``W/4 + 1`` (ResNet) for W divisible by 4.
"""

from __future__ import annotations

from torch import Tensor, nn


class VGGFeatureExtractor(nn.Module):
    """CRNN-style VGG (clovaai ``VGG_FeatureExtractor``; EasyOCR korean_g2 uses output_channel 256).

    Channels are output_channel/8, /4, /2, /1; height is divided by 16 and then reduced by one by the last
    2x2 convolution (imgH 32 -> 1 row, imgH 64 -> 3 rows, which the model averages).
    """

    def __init__(self, input_channel: int, output_channel: int = 512) -> None:
        super().__init__()
        c = [output_channel // 8, output_channel // 4, output_channel // 2, output_channel]
        self.output_channel = output_channel
        self.ConvNet = nn.Sequential(
            nn.Conv2d(input_channel, c[0], 3, 1, 1),
            nn.ReLU(True),  # 0, 1
            nn.MaxPool2d(2, 2),  # 2
            nn.Conv2d(c[0], c[1], 3, 1, 1),
            nn.ReLU(True),  # 3, 4
            nn.MaxPool2d(2, 2),  # 5
            nn.Conv2d(c[1], c[2], 3, 1, 1),
            nn.ReLU(True),  # 6, 7
            nn.Conv2d(c[2], c[2], 3, 1, 1),
            nn.ReLU(True),  # 8, 9
            nn.MaxPool2d((2, 1), (2, 1)),  # 10
            nn.Conv2d(c[2], c[3], 3, 1, 1, bias=False),
            nn.BatchNorm2d(c[3]),
            nn.ReLU(True),  # 11-13
            nn.Conv2d(c[3], c[3], 3, 1, 1, bias=False),
            nn.BatchNorm2d(c[3]),
            nn.ReLU(True),  # 14-16
            nn.MaxPool2d((2, 1), (2, 1)),  # 17
            nn.Conv2d(c[3], c[3], 2, 1, 0),
            nn.ReLU(True),  # 18, 19
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.ConvNet(x)


def _conv3x3(in_planes: int, out_planes: int) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=1, padding=1, bias=False)


class BasicBlock(nn.Module):
    """ResNet basic block (two 3x3 convolutions), clovaai's names ``conv1, bn1, conv2, bn2, downsample``."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = _conv3x3(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + residual)


class ResNet(nn.Module):
    """The FAN-style ResNet of clovaai (``ConvNet`` inside ``ResNet_FeatureExtractor``).

    Stage channels are output_channel/4, /2, /1, /1 with a stem of /16 and /8. Height is divided by 32 in
    total (imgH 32 -> 1 row); width by 4, plus one column from the padded pools/convs.
    """

    def __init__(self, input_channel: int, output_channel: int, layers: list[int]) -> None:
        super().__init__()
        blocks = [output_channel // 4, output_channel // 2, output_channel, output_channel]
        self.inplanes = output_channel // 8
        self.conv0_1 = nn.Conv2d(input_channel, output_channel // 16, 3, 1, 1, bias=False)
        self.bn0_1 = nn.BatchNorm2d(output_channel // 16)
        self.conv0_2 = nn.Conv2d(output_channel // 16, self.inplanes, 3, 1, 1, bias=False)
        self.bn0_2 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)

        self.maxpool1 = nn.MaxPool2d(kernel_size=2, stride=2, padding=0)
        self.layer1 = self._make_layer(blocks[0], layers[0])
        self.conv1 = _conv3x3(blocks[0], blocks[0])
        self.bn1 = nn.BatchNorm2d(blocks[0])

        self.maxpool2 = nn.MaxPool2d(kernel_size=2, stride=2, padding=0)
        self.layer2 = self._make_layer(blocks[1], layers[1])
        self.conv2 = _conv3x3(blocks[1], blocks[1])
        self.bn2 = nn.BatchNorm2d(blocks[1])

        self.maxpool3 = nn.MaxPool2d(kernel_size=2, stride=(2, 1), padding=(0, 1))
        self.layer3 = self._make_layer(blocks[2], layers[2])
        self.conv3 = _conv3x3(blocks[2], blocks[2])
        self.bn3 = nn.BatchNorm2d(blocks[2])

        self.layer4 = self._make_layer(blocks[3], layers[3])
        self.conv4_1 = nn.Conv2d(
            blocks[3], blocks[3], kernel_size=2, stride=(2, 1), padding=(0, 1), bias=False
        )
        self.bn4_1 = nn.BatchNorm2d(blocks[3])
        self.conv4_2 = nn.Conv2d(blocks[3], blocks[3], kernel_size=2, stride=1, padding=0, bias=False)
        self.bn4_2 = nn.BatchNorm2d(blocks[3])

    def _make_layer(self, planes: int, num_blocks: int) -> nn.Sequential:
        downsample = None
        if self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, kernel_size=1, stride=1, bias=False),
                nn.BatchNorm2d(planes),
            )
        layers = [BasicBlock(self.inplanes, planes, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, num_blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn0_1(self.conv0_1(x)))
        x = self.relu(self.bn0_2(self.conv0_2(x)))

        x = self.layer1(self.maxpool1(x))
        x = self.relu(self.bn1(self.conv1(x)))

        x = self.layer2(self.maxpool2(x))
        x = self.relu(self.bn2(self.conv2(x)))

        x = self.layer3(self.maxpool3(x))
        x = self.relu(self.bn3(self.conv3(x)))

        x = self.layer4(x)
        x = self.relu(self.bn4_1(self.conv4_1(x)))
        return self.relu(self.bn4_2(self.conv4_2(x)))


class ResNetFeatureExtractor(nn.Module):
    """clovaai ``ResNet_FeatureExtractor``: BasicBlock ResNet with layers [1, 2, 5, 3] by default."""

    def __init__(
        self, input_channel: int, output_channel: int = 512, layers: list[int] | None = None
    ) -> None:
        super().__init__()
        self.output_channel = output_channel
        self.ConvNet = ResNet(input_channel, output_channel, list(layers or [1, 2, 5, 3]))

    def forward(self, x: Tensor) -> Tensor:
        return self.ConvNet(x)
