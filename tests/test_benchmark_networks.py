"""benchmarks/networks.py and the FLOP count of benchmarks/architectures.py against hand-worked
values."""
import minicnn
from benchmarks.architectures import step_flops
from benchmarks.networks import NETWORKS


def parameter_count(name):
    return sum(p.numel() for p in NETWORKS[name].build(minicnn).parameters())


def test_resnet18_parameter_count_is_the_published_cifar_one():
    # 11,173,962: the published count of ResNet-18 with a 3x3 stem and a 10-class head.
    assert parameter_count("resnet18") == 11_173_962


def test_vgg11_parameter_count_by_hand():
    # conv (cin, cout): 9*cin*cout weights + cout bias + 2*cout batch-norm affine;
    # (3,64) 1,920; (64,128) 74,112; (128,256) 295,680; (256,256) 590,592;
    # (256,512) 1,181,184; (512,512) x3 2,360,832 each; Linear(512, 10) 5,130.
    assert parameter_count("vgg11") == 9_231_114


def test_step_flops_of_a_tiny_network_by_hand():
    nn = minicnn.nn
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(2, 4, 3, stride=2, groups=2), nn.Flatten(),
                          nn.Linear(16, 3))
    # conv1 on the input: 2*6*6 outputs x 1*9 = 648 multiply-adds, forward and weight
    # gradient only (x2); conv2 (groups 2): 4*2*2 outputs x 1*9 = 144, x3; linear 3*16 = 48,
    # x3. (1296 + 432 + 144) x 2 FLOP per multiply-add = 3744.
    assert step_flops(minicnn, model, (1, 6, 6)) == 3744
    assert model.training
