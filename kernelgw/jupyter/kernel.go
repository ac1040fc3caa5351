package jupyter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
)

// Kernel is a connection to one kernel's channels. Executions run one at a
// time, in the order Execute was called; Interrupt and Restart act on the
// kernel through the server. A Kernel reconnects by itself after the
// WebSocket drops, and ends (Done, Err) when the kernel is lost, when
// reconnecting fails, or when Close is called.
type Kernel struct {
	c       *Client
	id      string
	session string // ours: the server routes replies by it
	log     *slog.Logger

	submit       chan *request
	restarts     chan error // Restart: nil before asking the server, then its answer
	interrupting chan struct{}
	closing      chan struct{}
	closeOnce    sync.Once
	done         chan struct{} // closed when the loop has stopped; err is set
	err          error

	mu   sync.Mutex
	info KernelInfo

	pending atomic.Int32 // see Pending
}

// Connect opens kernel id's channels and waits until the kernel answers
// kernel_info. It fails with ErrKernelNotFound if the server has no such
// kernel; after it returns, losing the connection is handled by the Kernel.
func (c *Client) Connect(ctx context.Context, id string) (*Kernel, error) {
	if err := checkKernelID(id); err != nil {
		return nil, err
	}
	k := &Kernel{
		c: c, id: id, session: newID(), log: c.log.With("kernel", id),
		submit:       make(chan *request),
		restarts:     make(chan error),
		interrupting: make(chan struct{}),
		closing:      make(chan struct{}),
		done:         make(chan struct{}),
	}
	conn, hs, err := c.dialer.dial(ctx, id, k.session)
	if err != nil {
		return nil, fmt.Errorf("connect to kernel %s: %w", id, err)
	}
	k.info = hs.info
	go k.loop(conn, hs.session)
	return k, nil
}

// ID is the kernel's id.
func (k *Kernel) ID() string { return k.id }

// Info is the kernel's latest kernel_info_reply (renewed on reconnecting
// and when the kernel restarts).
func (k *Kernel) Info() KernelInfo {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.info
}

// Pending is how many executions are running or waiting here (the
// kernel's own queue, other clients' included, is not known).
func (k *Kernel) Pending() int { return int(k.pending.Load()) }

// Done is closed when the connection has ended for good; Err says why.
func (k *Kernel) Done() <-chan struct{} { return k.done }

// Err is nil while the connection lives, then why it ended: ErrClosed,
// ErrKernelLost, or ErrDisconnected when reconnecting gave up.
func (k *Kernel) Err() error {
	select {
	case <-k.done:
		return k.err
	default:
		return nil
	}
}

// Close ends the connection, fails what is pending with ErrClosed and
// waits for the connection's goroutines. The kernel keeps running.
func (k *Kernel) Close() error {
	k.closeOnce.Do(func() { close(k.closing) })
	<-k.done
	return nil
}

// Interrupt interrupts whatever the kernel is running — which, on a
// kernel shared with a user, may be the user's cell rather than ours.
func (k *Kernel) Interrupt(ctx context.Context) error {
	// Tell the loop first, so that the KeyboardInterrupt this causes is
	// not mistaken for the first sign of a restart (see loopState.held).
	select {
	case k.interrupting <- struct{}{}:
	case <-k.done:
		return k.err
	case <-ctx.Done():
		return fmt.Errorf("kernel %s: interrupt: %w", k.id, ctx.Err())
	}
	return k.c.InterruptKernel(ctx, k.id)
}

// Restart restarts the kernel through the server and fails what was
// pending here with ErrKernelRestarted; executions started after it
// returns run in the new kernel, once its output is seen to reach us.
func (k *Kernel) Restart(ctx context.Context) error {
	tell := func(err error) error {
		select {
		case k.restarts <- err:
			return nil
		case <-k.done:
			return k.err
		case <-ctx.Done():
			return fmt.Errorf("kernel %s: restart: %w", k.id, ctx.Err())
		}
	}
	// Hold back what waits: it would go to the dying kernel.
	if err := tell(nil); err != nil {
		return err
	}
	_, err := k.c.RestartKernel(ctx, k.id)
	if err == nil {
		return tell(errRestarted)
	}
	tell(err)
	return err
}

// errRestarted tells the loop a restart asked for here went through.
var errRestarted = errors.New("restarted")

// request is one Execute call. The loop owns the fields below events; the
// caller's goroutine reads events and builds the Result from them.
type request struct {
	code      string
	opts      ExecuteOptions
	events    chan update
	abandoned chan struct{} // closed when the caller stopped waiting

	msgID             string
	gotReply, gotIdle bool
	reply             executeReply
	interrupted       bool // by this client
}

// update is what the loop tells an Execute caller.
type update struct {
	out   Output // an output, or OutputClear
	wait  bool   // OutputClear: at the next output
	final bool
	reply executeReply // final without err: the execute_reply
	err   error        // final: why the execution failed
}

// updateBuffer lets outputs run ahead of a slow OnOutput a little before
// the loop waits for it.
const updateBuffer = 64

// Execute runs code in the kernel after the executions already waiting
// and returns what it produced. The Result is never nil: on an error it
// holds the outputs that arrived before it. If the code raised, the error
// is an *ExecError; ErrKernelRestarted, ErrDisconnected, ErrKernelLost,
// ErrClosed and ErrAborted say why an execution did not finish.
//
// Cancelling ctx stops the waiting, not the code: a running execution goes
// on in the kernel (use Interrupt), and the next one waits for it.
func (k *Kernel) Execute(ctx context.Context, code string, opts *ExecuteOptions) (*Result, error) {
	r := &request{code: code, events: make(chan update, updateBuffer), abandoned: make(chan struct{})}
	if opts != nil {
		r.opts = *opts
	}
	res := &Result{}
	select {
	case k.submit <- r:
	case <-ctx.Done():
		return res, fmt.Errorf("kernel %s: execute: %w", k.id, ctx.Err())
	case <-k.done:
		return res, k.err
	}
	for {
		select {
		case u := <-r.events:
			if u.final {
				return k.finish(res, u)
			}
			k.apply(res, r, u)
		case <-ctx.Done():
			close(r.abandoned)
			res.finish()
			return res, fmt.Errorf("kernel %s: execute: %w", k.id, ctx.Err())
		case <-k.done:
			// The loop may have handed over the end before it stopped.
			for {
				select {
				case u := <-r.events:
					if u.final {
						return k.finish(res, u)
					}
					k.apply(res, r, u)
				default:
					res.finish()
					return res, k.err
				}
			}
		}
	}
}

func (k *Kernel) apply(res *Result, r *request, u update) {
	if u.out.Type == OutputClear {
		res.clearOutput(u.wait)
	} else {
		res.add(u.out, k.c.cfg.MaxOutputBytes)
	}
	if r.opts.OnOutput != nil {
		r.opts.OnOutput(u.out)
	}
}

func (k *Kernel) finish(res *Result, u update) (*Result, error) {
	res.finish()
	if u.err != nil {
		return res, u.err
	}
	rep := u.reply
	res.Status = rep.Status
	if rep.ExecutionCount != nil {
		res.ExecutionCount = *rep.ExecutionCount
	}
	res.UserExpressions = rep.UserExpressions
	switch rep.Status {
	case "ok":
		return res, nil
	case "aborted":
		return res, fmt.Errorf("kernel %s: execute: %w", k.id, ErrAborted)
	default: // "error", and whatever a kernel may invent
		e := &ExecError{EName: rep.EName, EValue: rep.EValue, Traceback: rep.Traceback}
		if e.EName == "" {
			// Some kernels leave the details to the error output.
			for _, o := range res.Outputs {
				if o.Type == OutputError {
					e = &ExecError{EName: o.EName, EValue: o.EValue, Traceback: o.Traceback}
				}
			}
		}
		if e.EName == "" {
			e.EName = "error"
			if rep.Status != "error" {
				e.EName = fmt.Sprintf("status %q", rep.Status)
			}
		}
		return res, fmt.Errorf("kernel %s: execute: %w", k.id, e)
	}
}
