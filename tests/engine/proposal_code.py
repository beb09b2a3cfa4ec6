"""The proposal's notebook code (``shared/study.md``), written once against an ``nn``
namespace so that the same lines build the network in PyTorch and in minicnn."""


def simple_cnn_class(nn, final_relu: bool = True):
    """The proposal's SimpleCNN class, unchanged but for the optional final-ReLU defect."""

    class SimpleCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv_layer1 = nn.Sequential(
                nn.Conv2d(in_channels=1, out_channels=16, kernel_size=3, padding=1),
                nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2))
            self.conv_layer2 = nn.Sequential(
                nn.Conv2d(in_channels=16, out_channels=32, kernel_size=3, padding=1),
                nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2))
            self.conv_layer3 = nn.Sequential(
                nn.Conv2d(in_channels=32, out_channels=64, kernel_size=3, padding=1),
                nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2))
            self.fc_layers = nn.Sequential(
                nn.Linear(16 * 16 * 64, 5),
                *([nn.ReLU()] if final_relu else []))

        def forward(self, x):
            x = self.conv_layer1(x)
            x = self.conv_layer2(x)
            x = self.conv_layer3(x)
            x = x.view(x.size(0), -1)  # flatten
            x = self.fc_layers(x)
            return x

    return SimpleCNN
