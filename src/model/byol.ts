import { native, Native } from './addon'
import { Tensor } from './tensor'

/** Where a model runs: `auto` picks the first CUDA device when libtorch sees one. */
export type Device = 'auto' | 'cpu' | 'cuda' | `cuda:${number}`

/** Optimizer of the online network. Defaults: SGD, lr 0.06, no momentum (the Lightly example). */
export type OptimizerOptions = Native.NativeOptimizerOptions

/** The model's architecture and training options. Defaults reproduce Lightly's BYOL example. */
export interface ByolOptions extends Omit<Native.NativeByolOptions, 'device'> {
  /** Default `cpu`. */
  device?: Device
}

export type Network = 'online' | 'target'
export type Part = 'backbone' | 'projection' | 'prediction'

/** One named tensor of a network: a trained parameter or a BatchNorm buffer. */
export interface StateEntry extends Tensor<Float32Array | BigInt64Array> {
  role: 'parameter' | 'buffer'
}

/** Named tensors with PyTorch's names (`backbone.layer1.0.conv1.weight`, ...). */
export type State = Map<string, Tensor<Float32Array | BigInt64Array>>

/**
 * A BYOL model: an online network (ResNet-18 backbone, projection head, prediction head) and a
 * target network (backbone, projection head) that follows it by a momentum average.
 * All methods that compute run off the JavaScript thread and return promises.
 */
export class Byol {
  private constructor(
    private readonly handle: Native.ModelHandle,
    readonly options: Readonly<ByolOptions>,
  ) {}

  static async create(options: ByolOptions = {}): Promise<Byol> {
    return new Byol(await native.byolCreate(options), { ...options })
  }

  /**
   * One training step on two augmented views of the same batch of images (`[N, 3, H, W]`,
   * normalised float32): moves the target network with `momentum`, then updates the online
   * network. Resolves to the loss. `lr` overrides the optimizer's learning rate from now on.
   */
  step(view0: Tensor, view1: Tensor, options: { momentum: number; lr?: number }): Promise<number> {
    return native.byolStep(this.handle, view0, view1, options)
  }

  /** How steps compute: precision (`fp32`, `bf16`), channels-last layout, a second CUDA stream
   * for the target network. Changes speed and rounding, not the model. */
  setStepOptions(options: Native.NativeStepOptions): Promise<void> {
    return native.byolSetStepOptions(this.handle, options)
  }

  /** Where the model lives: `cpu`, `cuda:0`, ... (`auto` resolved). */
  get device(): string {
    return native.byolDevice(this.handle)
  }

  /** `target = momentum * target + (1 - momentum) * online`, over the parameters. */
  updateTarget(momentum: number): Promise<void> {
    return native.byolUpdateTarget(this.handle, momentum)
  }

  /** Runs one part of one network alone; `train` selects BatchNorm's training behaviour. */
  async forward(network: Network, part: Part, input: Tensor, options: { train?: boolean } = {}): Promise<Tensor> {
    return (await native.byolForward(this.handle, network, part, input, options.train ?? false)) as Tensor
  }

  /** Backbone features (`[N, 512]` at the default width) of the online network in eval mode. */
  embed(images: Tensor): Promise<Tensor> {
    return this.forward('online', 'backbone', images)
  }

  /** Every parameter and buffer of a network, in order, with PyTorch's names. */
  async state(network: Network = 'online'): Promise<Map<string, StateEntry>> {
    const entries = await native.byolState(this.handle, network)
    return new Map(entries.map(({ name, ...entry }) => [name, entry as StateEntry]))
  }

  /** Replaces every parameter and buffer; names and shapes must match the model exactly. */
  loadState(state: State, network: Network = 'online'): Promise<void> {
    const entries = [...state].map(([name, t]) => ({ name, data: t.data, shape: t.shape }))
    return native.byolLoadState(this.handle, network, entries)
  }
}
