// One full BYOL step in Lightly's example configuration (SGD lr 0.06, EMA momentum 0.99) against
// PyTorch, for both stems, from fixed weights (online and target different) and fixed views: the
// loss, then every online parameter and buffer after the SGD step and every target parameter and
// buffer after the EMA and the target's train-mode forwards.
import test from 'ava'
import { runStepCase } from './helpers/step'

test('one BYOL step, Lightly config, imagenet stem, matches PyTorch', (t) => runStepCase(t, 'lightly-imagenet'))
test('one BYOL step, Lightly config, cifar stem, matches PyTorch', (t) => runStepCase(t, 'lightly-cifar'))
