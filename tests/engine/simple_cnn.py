"""The proposal's SimpleCNN, built here for the engine's tests (they do not import
``experiments``): 3 x [Conv2d(3x3, padding 1) -> BatchNorm2d -> ReLU -> MaxPool2d(2)] with
1 -> 16 -> 32 -> 64 channels, then Linear(64 * (image / 8)**2, 5). ``image=128`` is the
proposal's network; smaller images keep the tests that run slow kernels short. ``nn`` is
``minicnn.nn`` or ``torch.nn``: the same module tree (names, shapes) in either engine."""
import minicnn


def simple_cnn(image: int = 128, nn=minicnn.nn):
    def block(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, kernel_size=3, padding=1), nn.BatchNorm2d(cout),
                             nn.ReLU(), nn.MaxPool2d(2))

    class SimpleCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv_layer1 = block(1, 16)
            self.conv_layer2 = block(16, 32)
            self.conv_layer3 = block(32, 64)
            self.fc_layers = nn.Sequential(nn.Linear(64 * (image // 8) ** 2, 5))

        def forward(self, x):
            x = self.conv_layer3(self.conv_layer2(self.conv_layer1(x)))
            return self.fc_layers(x.view(x.size(0), -1))

    return SimpleCNN()
