// Package jupyter is the sidecar's client of a Jupyter server: it lists,
// starts, interrupts, restarts and deletes kernels over the REST API and
// runs code in a kernel over its channels WebSocket (messaging protocol 5.3,
// JSON text frames).
//
// kernelgw runs code in the user's own kernel — to read the Python version
// and installed packages, and to load a past run's values for explore — so
// the client must share that kernel politely and survive what happens to it:
// executions are sent one at a time and matched to their replies by parent
// message id (other clients, and the server's own kernel_info_requests, use
// the same kernel); a restarted kernel fails what was pending with
// ErrKernelRestarted rather than leaving it waiting forever; a dropped
// WebSocket fails what was in flight with ErrDisconnected and reconnects
// with bounded backoff; a kernel that is gone (deleted, or its server
// restarted) ends the connection with ErrKernelLost.
//
// Everything a peer sends is bounded (message size, collected output, the
// queue of waiting executions) and decoded defensively: a hostile or broken
// message is dropped, never a panic. The package logs only to the
// *slog.Logger it is given.
package jupyter
