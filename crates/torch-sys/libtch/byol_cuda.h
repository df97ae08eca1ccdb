/* CUDA-only operations of byol's C ABI: whole-step CUDA graphs, side streams and memory
 * statistics. Compiled for real when the shim is built against a CUDA libtorch with CUDA headers
 * (BYOL_WITH_CUDA); otherwise every function returns an error that says so, so that callers fall
 * back to eager execution.
 *
 * Same conventions as byol_torch.h. The Rust side declares these in crates/torch-sys/src/cuda.rs.
 */
#ifndef BYOL_CUDA_H
#define BYOL_CUDA_H

#include "byol_torch.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bt_cuda_graph_s *bt_cuda_graph;
typedef struct bt_stream_scope_s *bt_stream_scope;
typedef struct bt_cuda_event_s *bt_cuda_event;

/* 1 when this shim was compiled with CUDA graph and stream support. */
int bt_cuda_support_built(void);

/* Makes a pooled side stream of `device_index` current on this thread after it waits for the
 * work already queued on the current stream (fork). bt_stream_scope_end makes the previous stream
 * current again and has it wait for the side stream's work (join), then frees the scope. Scopes
 * nest and must end in the reverse order. Inside a graph capture, fork and join become graph
 * edges, so the two streams' work may run concurrently on every replay. */
bt_error bt_stream_scope_begin(int device_index, bt_stream_scope *out);
bt_error bt_stream_scope_end(bt_stream_scope s);
/* Makes the previous stream current again without waiting for the side stream, so that work
 * queued next overlaps with the side stream's; bt_stream_scope_end still joins. */
bt_error bt_stream_scope_leave(bt_stream_scope s);

/* Tells the caching allocator that `t` is used on the current stream (Tensor.record_stream), for
 * a tensor made on a side stream and read on another. */
bt_error bt_tensor_record_stream(bt_tensor t);

/* at::cuda::CUDAGraph. Capture must run on a side stream (inside a stream scope); everything
 * queued on this thread's current stream between begin and end is recorded, not run. */
bt_error bt_cuda_graph_new(bt_cuda_graph *out);
void bt_cuda_graph_free(bt_cuda_graph g);
bt_error bt_cuda_graph_capture_begin(bt_cuda_graph g);
bt_error bt_cuda_graph_capture_end(bt_cuda_graph g);
bt_error bt_cuda_graph_replay(bt_cuda_graph g);

/* An event recorded on the current stream of `device_index`: it completes when the work queued
 * there so far has run. Synchronizing waits for that work only, not for work queued later. */
bt_error bt_cuda_event_record(int device_index, bt_cuda_event *out);
bt_error bt_cuda_event_synchronize(bt_cuda_event e);
void bt_cuda_event_free(bt_cuda_event e);

/* Peak bytes held by tensors and reserved by the caching allocator since the last reset. */
bt_error bt_cuda_peak_memory(int device_index, int64_t *allocated, int64_t *reserved);
bt_error bt_cuda_reset_peak_memory(int device_index);

#ifdef __cplusplus
}
#endif

#endif
