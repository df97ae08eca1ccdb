/* Data-parallel communication of byol's C ABI over PyTorch's c10d: a TCPStore for rendezvous and
 * small messages, and a process group (Gloo on CPUs, NCCL on CUDA) for broadcasts and
 * all-reduces. Compiled for real when the shim is built with c10d's headers (BYOL_WITH_GLOO,
 * BYOL_WITH_NCCL); otherwise every function returns an error that says what is missing.
 *
 * Same conventions as byol_torch.h. The Rust side declares these in crates/torch-sys/src/dist.rs.
 */
#ifndef BYOL_DIST_H
#define BYOL_DIST_H

#include "byol_torch.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bt_store_s *bt_store;
typedef struct bt_process_group_s *bt_process_group;
typedef struct bt_work_s *bt_work;

/* The process-group backends this shim was built with: BT_DIST_GLOO | BT_DIST_NCCL. */
enum { BT_DIST_GLOO = 1, BT_DIST_NCCL = 2 };
int bt_dist_backends(void);

/* A TCPStore client watches its connection on a thread of libtorch's own, where a socket error
 * (the store's host killed) ends the process in std::terminate. With a message set, that prints
 * the message and the error on stderr and exits with status 1 instead; NULL or "" unsets it. */
void bt_dist_set_lost_store_message(const char *message);

/* A c10d TCPStore at host:port: the server when `is_server` (it listens on port, 0 = any free
 * port), a client otherwise, which retries until `timeout_s`. Keys are prefixed with `prefix`
 * (c10d's PrefixStore) when it is not empty. */
bt_error bt_store_connect(const char *host, int port, int is_server, double timeout_s, const char *prefix,
                          bt_store *out);
void bt_store_free(bt_store s);
/* The port the store's server listens on (what port 0 became). */
bt_error bt_store_port(bt_store s, int *out);
bt_error bt_store_set(bt_store s, const char *key, const uint8_t *data, size_t len);
/* Waits for `key` (up to the store's timeout) and returns its value, malloc'd: free it with
 * bt_bytes_free. */
bt_error bt_store_get(bt_store s, const char *key, uint8_t **data, size_t *len);
void bt_bytes_free(uint8_t *data);
/* Adds `delta` to the integer at `key` (0 when missing) and returns the sum. */
bt_error bt_store_add(bt_store s, const char *key, int64_t delta, int64_t *out);
/* 1 when every one of `keys` is set, without waiting. */
bt_error bt_store_check(bt_store s, const char *const *keys, size_t n, int *out);

/* A process group of `world_size` ranks that rendezvous through `store`: `backend` is "gloo" or
 * "nccl". Gloo binds its sockets to `interface` when given (GLOO_SOCKET_IFNAME), else to
 * `hostname` (an address of this machine the others can reach). Collectives fail after
 * `timeout_s`. */
bt_error bt_process_group_new(bt_store store, const char *backend, int rank, int world_size, double timeout_s,
                              const char *hostname, const char *interface, bt_process_group *out);
void bt_process_group_free(bt_process_group pg);

/* Every rank ends with rank `root`'s values of `ts` (in place, one collective per tensor). */
bt_error bt_broadcast_(bt_process_group pg, const bt_tensor *ts, size_t n, int root);
/* Starts summing `t` in place over all ranks; bt_work_wait ends it. */
bt_error bt_allreduce_sum_(bt_process_group pg, bt_tensor t, bt_work *out);
/* Waits for a collective; its error (a rank gone, the timeout) is returned here. */
bt_error bt_work_wait(bt_work w);
void bt_work_free(bt_work w);

/* Calls `hook(data, grad)` with each gradient computed for `t` during backward, before it is
 * accumulated into t.grad (Tensor.register_hook); `grad` is borrowed for the call. The hook runs
 * on the thread that runs backward for `t`'s device. */
typedef void (*bt_grad_hook)(void *data, bt_tensor grad);
bt_error bt_tensor_register_grad_hook(bt_tensor t, bt_grad_hook hook, void *data, unsigned *handle);
/* Removes a hook bt_tensor_register_grad_hook added (`handle` is what it returned). */
bt_error bt_tensor_remove_grad_hook(bt_tensor t, unsigned handle);

#ifdef __cplusplus
}
#endif

#endif
