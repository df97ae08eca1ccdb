// Data-parallel communication over c10d (byol_dist.h). The process-group headers compile to
// nothing without USE_DISTRIBUTED and USE_C10D_GLOO, which the build defines (with
// BYOL_WITH_GLOO) only when Gloo's headers are found; NCCL likewise with BYOL_WITH_NCCL.
#include "byol_dist.h"
#include "internal.h"

#include <unistd.h>

#include <chrono>
#include <exception>
#include <mutex>
#include <system_error>

namespace {
std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

std::mutex lost_store_mutex;
std::string lost_store_message;
std::terminate_handler default_terminate = nullptr;

// libtorch 1.13's TCPStore client watches its connection on a thread of its own, and a socket
// error there (the store's host killed, its kernel resetting the connection) escapes that thread,
// which ends the process in std::terminate with only "Connection reset by peer". With a message
// set, say what it means and exit with status 1 instead of aborting.
[[noreturn]] void on_terminate() {
  std::string message;
  {
    std::lock_guard<std::mutex> lock(lost_store_mutex);
    message = lost_store_message;
  }
  if (!message.empty()) {
    if (auto escaped = std::current_exception()) {
      try {
        std::rethrow_exception(escaped);
      } catch (const std::system_error &e) {
        std::string line = message + " (" + e.what() + ")\n";
        ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
        (void)ignored;
        std::_Exit(1);
      } catch (...) {
      }
    }
  }
  if (default_terminate) default_terminate();
  std::abort();
}
}  // namespace

extern "C" void bt_dist_set_lost_store_message(const char *message) {
  static std::once_flag installed;
  std::call_once(installed, [] { default_terminate = std::set_terminate(on_terminate); });
  std::lock_guard<std::mutex> lock(lost_store_mutex);
  lost_store_message = message ? message : "";
}

extern "C" bt_error bt_tensor_register_grad_hook(bt_tensor t, bt_grad_hook hook, void *data, unsigned *handle) {
  PROTECT({
    *handle = t->t.register_hook([hook, data](const at::Tensor &grad) {
      // Borrowed for the call: not counted as a live handle, not freed by the hook.
      bt_tensor_s borrowed{grad};
      hook(data, &borrowed);
    });
  })
}

extern "C" bt_error bt_tensor_remove_grad_hook(bt_tensor t, unsigned handle) { PROTECT(t->t.remove_hook(handle)) }

#ifdef BYOL_WITH_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef BYOL_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

struct bt_store_s {
  c10::intrusive_ptr<c10d::TCPStore> tcp;
  c10::intrusive_ptr<c10d::Store> store;  // tcp, or tcp behind a prefix
};
struct bt_process_group_s {
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
};
struct bt_work_s {
  c10::intrusive_ptr<c10d::Work> work;
};

extern "C" {

int bt_dist_backends(void) {
#ifdef BYOL_WITH_NCCL
  return BT_DIST_GLOO | BT_DIST_NCCL;
#else
  return BT_DIST_GLOO;
#endif
}

bt_error bt_store_connect(const char *host, int port, int is_server, double timeout_s, const char *prefix,
                          bt_store *out) {
  PROTECT({
    bt::require(port >= 0 && port < 65536, "port must be in 0..65535, got " + std::to_string(port));
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<std::uint16_t>(port);
    opts.isServer = is_server != 0;
    // The ranks check in through keys of their own, which name who is missing.
    opts.waitWorkers = false;
    opts.timeout = millis(timeout_s);
    auto tcp = c10::make_intrusive<c10d::TCPStore>(std::string(host), opts);
    c10::intrusive_ptr<c10d::Store> store = tcp;
    if (prefix && *prefix) store = c10::make_intrusive<c10d::PrefixStore>(prefix, store);
    *out = new bt_store_s{tcp, store};
  })
}

void bt_store_free(bt_store s) { delete s; }

bt_error bt_store_port(bt_store s, int *out) { PROTECT(*out = s->tcp->getPort()) }

bt_error bt_store_set(bt_store s, const char *key, const uint8_t *data, size_t len) {
  PROTECT(s->store->set(key, std::vector<uint8_t>(data, data + len)))
}

bt_error bt_store_get(bt_store s, const char *key, uint8_t **data, size_t *len) {
  PROTECT({
    auto value = s->store->get(key);
    *data = static_cast<uint8_t *>(std::malloc(value.empty() ? 1 : value.size()));
    if (!*data) throw std::bad_alloc();
    if (!value.empty()) std::memcpy(*data, value.data(), value.size());
    *len = value.size();
  })
}

bt_error bt_store_add(bt_store s, const char *key, int64_t delta, int64_t *out) {
  PROTECT(*out = s->store->add(key, delta))
}

bt_error bt_store_check(bt_store s, const char *const *keys, size_t n, int *out) {
  PROTECT({
    std::vector<std::string> names(keys, keys + n);
    *out = s->store->check(names) ? 1 : 0;
  })
}

bt_error bt_process_group_new(bt_store store, const char *backend, int rank, int world_size, double timeout_s,
                              const char *hostname, const char *interface, bt_process_group *out) {
  PROTECT({
    std::string name(backend);
    if (name == "gloo") {
      auto opts = c10d::ProcessGroupGloo::Options::create(millis(timeout_s));
      if (interface && *interface)
        opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
      else if (hostname && *hostname)
        opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(hostname));
      else
        opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store->store, rank, world_size, opts);
      *out = new bt_process_group_s{pg};
      return nullptr;
    }
#ifdef BYOL_WITH_NCCL
    if (name == "nccl") {
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = millis(timeout_s);
      auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store->store, rank, world_size, opts);
      *out = new bt_process_group_s{pg};
      return nullptr;
    }
#endif
    throw std::invalid_argument("backend '" + name + "' is not built into byol's libtorch shim (" +
                                (bt_dist_backends() & BT_DIST_NCCL ? "gloo, nccl" : "gloo") + " are)");
  })
}

void bt_process_group_free(bt_process_group pg) { delete pg; }

bt_error bt_broadcast_(bt_process_group pg, const bt_tensor *ts, size_t n, int root) {
  PROTECT({
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    for (size_t i = 0; i < n; ++i) {
      std::vector<at::Tensor> one{ts[i]->t};
      pg->pg->broadcast(one, opts)->wait();
      // The collective wrote the storage behind autograd's back: count it as an in-place write,
      // so copies derived from the old values (packed inference weights) are rebuilt.
      ts[i]->t.unsafeGetTensorImpl()->bump_version();
    }
  })
}

bt_error bt_allreduce_sum_(bt_process_group pg, bt_tensor t, bt_work *out) {
  PROTECT({
    std::vector<at::Tensor> one{t->t};
    c10d::AllreduceOptions opts;
    opts.reduceOp = c10d::ReduceOp::SUM;
    *out = new bt_work_s{pg->pg->allreduce(one, opts)};
  })
}

bt_error bt_work_wait(bt_work w) { PROTECT(w->work->wait()) }

void bt_work_free(bt_work w) { delete w; }

}  // extern "C"

#else  // without c10d

struct bt_store_s {};
struct bt_process_group_s {};
struct bt_work_s {};

#define NO_DIST                                                                                     \
  return bt::dup_message(                                                                           \
      "byol's libtorch shim was built without c10d's Gloo headers, so it cannot train data-parallel " \
      "(install libgloo-dev, then rebuild: node scripts/install.js --force)");

extern "C" {
int bt_dist_backends(void) { return 0; }
bt_error bt_store_connect(const char *, int, int, double, const char *, bt_store *) { NO_DIST }
void bt_store_free(bt_store s) { delete s; }
bt_error bt_store_port(bt_store, int *) { NO_DIST }
bt_error bt_store_set(bt_store, const char *, const uint8_t *, size_t) { NO_DIST }
bt_error bt_store_get(bt_store, const char *, uint8_t **, size_t *) { NO_DIST }
bt_error bt_store_add(bt_store, const char *, int64_t, int64_t *) { NO_DIST }
bt_error bt_store_check(bt_store, const char *const *, size_t, int *) { NO_DIST }
bt_error bt_process_group_new(bt_store, const char *, int, int, double, const char *, const char *,
                              bt_process_group *) { NO_DIST }
void bt_process_group_free(bt_process_group pg) { delete pg; }
bt_error bt_broadcast_(bt_process_group, const bt_tensor *, size_t, int) { NO_DIST }
bt_error bt_allreduce_sum_(bt_process_group, bt_tensor, bt_work *) { NO_DIST }
bt_error bt_work_wait(bt_work) { NO_DIST }
void bt_work_free(bt_work w) { delete w; }
}  // extern "C"

#endif

extern "C" void bt_bytes_free(uint8_t *data) { std::free(data); }
