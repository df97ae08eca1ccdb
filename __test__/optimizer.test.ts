// The optimizers inside full BYOL steps against PyTorch: torch.optim.SGD with momentum, weight
// decay and nesterov (momentum buffers matter on the second step, which also changes the learning
// rate), and Lightly's LARS with momentum, dampening and weight decay. Loss of each step, then
// every online and target parameter and buffer.
import test from 'ava'
import { runStepCase } from './helpers/step'

test('SGD momentum 0.9 + weight decay + nesterov, two steps (cifar stem), matches torch.optim.SGD', (t) => runStepCase(t, 'sgd-nesterov-cifar'))
test("LARS momentum 0.9 + dampening + weight decay, two steps (imagenet stem), matches Lightly's LARS", (t) => runStepCase(t, 'lars-imagenet'))
