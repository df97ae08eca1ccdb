/* Training-speed operations of byol's C ABI that work on every device: mixed precision
 * (autocast), memory formats, and multi-tensor updates scaled by device tensors, so that the
 * learning rate and the target momentum can change between replays of a captured step.
 *
 * Same conventions as byol_torch.h. The Rust side declares these in crates/torch-sys/src/train.rs.
 */
#ifndef BYOL_TRAIN_H
#define BYOL_TRAIN_H

#include "byol_torch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* memory formats */
enum { BT_CONTIGUOUS = 0, BT_CHANNELS_LAST = 1 };

/* Turns on autocast to `dtype` (BT_BF16 or BT_F16) for `device_type` on this thread, as
 * `torch.autocast` does on entry. `previous` receives the state to give back to bt_autocast_exit. */
bt_error bt_autocast_enter(int device_type, int dtype, int *previous);
/* Leaves autocast: restores `previous` and drops the cast cache when the outermost region ends. */
bt_error bt_autocast_exit(int device_type, int previous);
/* Whether autocast is on for `device_type` on this thread. */
bt_error bt_autocast_is_enabled(int device_type, int *out);

/* A copy in `memory_format` (or the tensor itself when it already is). */
bt_error bt_contiguous_as(bt_tensor t, int memory_format, bt_tensor *out);
/* Points `t` (every handle to it, autograd included) at `src`'s data: `param.data = src`. */
bt_error bt_tensor_set_data(bt_tensor t, bt_tensor src);

/* ts[i] = m * ts[i] + (1 - m) * others[i] with `m` a 0-d tensor (the target momentum). */
bt_error bt_foreach_ema_tensor_(const bt_tensor *ts, const bt_tensor *others, size_t n, bt_tensor m);
/* ts[i] += sign * s * others[i] with `s` a 0-d tensor (the learning rate). */
bt_error bt_foreach_add_scaled_tensor_(const bt_tensor *ts, const bt_tensor *others, size_t n,
                                       bt_tensor s, double sign);

/* A host copy of `t` queued on the current stream without waiting (into pinned memory for a GPU
 * tensor): read it only after the work queued so far has run (bt_cuda_event_record). A CPU
 * tensor is returned as it is. */
bt_error bt_to_host_async(bt_tensor t, bt_tensor *out);

/* cuDNN's autotuner (torch.backends.cudnn.benchmark) */
bt_error bt_cudnn_set_benchmark(int enabled);
/* Only deterministic cuDNN algorithms (torch.backends.cudnn.deterministic) */
bt_error bt_cudnn_set_deterministic(int enabled);

#ifdef __cplusplus
}
#endif

#endif
