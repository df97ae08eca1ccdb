// CUDA graphs, side streams and memory statistics (byol_cuda.h). Built for real only with
// BYOL_WITH_CUDA (set by the build when libtorch has CUDA and the CUDA headers are found).
#include "byol_cuda.h"
#include "internal.h"

#ifdef BYOL_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>

#include <memory>

struct bt_cuda_graph_s {
  at::cuda::CUDAGraph graph;
};

struct bt_stream_scope_s {
  c10::cuda::CUDAStream previous;
  c10::cuda::CUDAStream side;
};

struct bt_cuda_event_s {
  cudaEvent_t event;
  int device;
};

namespace {
c10::DeviceIndex device_index(int index) {
  bt::require(index >= 0 && index < c10::cuda::device_count(),
              "no CUDA device " + std::to_string(index));
  return static_cast<c10::DeviceIndex>(index);
}

// `waiter` waits for the work queued on `source` so far. A plain CUDA event (not ATen's
// CUDAEvent, whose header needs the cuSPARSE/cuBLAS headers); inside a capture it becomes an edge.
void wait_for(const c10::cuda::CUDAStream &waiter, const c10::cuda::CUDAStream &source) {
  cudaEvent_t event;
  C10_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  C10_CUDA_CHECK(cudaEventRecord(event, source.stream()));
  C10_CUDA_CHECK(cudaStreamWaitEvent(waiter.stream(), event, 0));
  C10_CUDA_CHECK(cudaEventDestroy(event));
}
}  // namespace

extern "C" {

int bt_cuda_support_built(void) { return 1; }

bt_error bt_stream_scope_begin(int index, bt_stream_scope *out) {
  PROTECT({
    auto device = device_index(index);
    auto previous = c10::cuda::getCurrentCUDAStream(device);
    auto side = c10::cuda::getStreamFromPool(false, device);
    wait_for(side, previous);
    c10::cuda::setCurrentCUDAStream(side);
    *out = new bt_stream_scope_s{previous, side};
  })
}

bt_error bt_stream_scope_end(bt_stream_scope s) {
  PROTECT({
    std::unique_ptr<bt_stream_scope_s> scope(s);
    wait_for(scope->previous, scope->side);
    c10::cuda::setCurrentCUDAStream(scope->previous);
  })
}

bt_error bt_stream_scope_leave(bt_stream_scope s) {
  PROTECT(c10::cuda::setCurrentCUDAStream(s->previous))
}

bt_error bt_tensor_record_stream(bt_tensor t) {
  PROTECT({
    bt::require(t->t.is_cuda(), "record_stream needs a CUDA tensor");
    t->t.record_stream(c10::cuda::getCurrentCUDAStream(t->t.device().index()));
  })
}

bt_error bt_cuda_graph_new(bt_cuda_graph *out) { PROTECT(*out = new bt_cuda_graph_s()) }

void bt_cuda_graph_free(bt_cuda_graph g) { delete g; }

bt_error bt_cuda_graph_capture_begin(bt_cuda_graph g) { PROTECT(g->graph.capture_begin()) }

bt_error bt_cuda_graph_capture_end(bt_cuda_graph g) { PROTECT(g->graph.capture_end()) }

bt_error bt_cuda_graph_replay(bt_cuda_graph g) { PROTECT(g->graph.replay()) }

bt_error bt_cuda_event_record(int index, bt_cuda_event *out) {
  PROTECT({
    auto device = device_index(index);
    c10::cuda::CUDAGuard guard(device);
    cudaEvent_t event;
    C10_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    auto recorded = cudaEventRecord(event, c10::cuda::getCurrentCUDAStream(device).stream());
    if (recorded != cudaSuccess) cudaEventDestroy(event);
    C10_CUDA_CHECK(recorded);
    *out = new bt_cuda_event_s{event, index};
  })
}

bt_error bt_cuda_event_synchronize(bt_cuda_event e) {
  PROTECT(C10_CUDA_CHECK(cudaEventSynchronize(e->event)))
}

void bt_cuda_event_free(bt_cuda_event e) {
  if (e == nullptr) return;
  cudaEventDestroy(e->event);
  delete e;
}

bt_error bt_cuda_peak_memory(int index, int64_t *allocated, int64_t *reserved) {
  PROTECT({
    // StatType::AGGREGATE is index 0 in every libtorch version.
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device_index(index));
    *allocated = stats.allocated_bytes[0].peak;
    *reserved = stats.reserved_bytes[0].peak;
  })
}

bt_error bt_cuda_reset_peak_memory(int index) {
  PROTECT(c10::cuda::CUDACachingAllocator::resetPeakStats(device_index(index)))
}

}  // extern "C"

#else  // no CUDA in this build: every call explains why it cannot run.

struct bt_cuda_graph_s {};
struct bt_stream_scope_s {};
struct bt_cuda_event_s {};

#define NO_CUDA \
  return bt::dup_message("this build of byol's libtorch shim has no CUDA support (built against a CPU libtorch or without CUDA headers)");

extern "C" {

int bt_cuda_support_built(void) { return 0; }
bt_error bt_stream_scope_begin(int, bt_stream_scope *) { NO_CUDA }
bt_error bt_stream_scope_end(bt_stream_scope) { NO_CUDA }
bt_error bt_stream_scope_leave(bt_stream_scope) { NO_CUDA }
bt_error bt_tensor_record_stream(bt_tensor) { NO_CUDA }
bt_error bt_cuda_graph_new(bt_cuda_graph *) { NO_CUDA }
void bt_cuda_graph_free(bt_cuda_graph g) { delete g; }
bt_error bt_cuda_graph_capture_begin(bt_cuda_graph) { NO_CUDA }
bt_error bt_cuda_graph_capture_end(bt_cuda_graph) { NO_CUDA }
bt_error bt_cuda_graph_replay(bt_cuda_graph) { NO_CUDA }
bt_error bt_cuda_event_record(int, bt_cuda_event *) { NO_CUDA }
bt_error bt_cuda_event_synchronize(bt_cuda_event) { NO_CUDA }
void bt_cuda_event_free(bt_cuda_event e) { delete e; }
bt_error bt_cuda_peak_memory(int, int64_t *, int64_t *) { NO_CUDA }
bt_error bt_cuda_reset_peak_memory(int) { NO_CUDA }

}  // extern "C"

#endif
