package jupyter_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datainsight/datainsight/internal/jupytertest"
	"github.com/datainsight/datainsight/kernelgw/jupyter"
)

func TestExecute(t *testing.T) {
	noLeaks(t)
	srv := jupytertest.Shared(t)
	c := newClient(t, srv.URL, srv.Token, nil)
	k := startKernel(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	if li := k.Info().LanguageInfo; li.Name != "python" || li.Version == "" {
		t.Errorf("kernel info: language %+v, want python with a version", li)
	}

	t.Run("outputs", func(t *testing.T) {
		var live []jupyter.Output
		res, err := k.Execute(ctx, strings.Join([]string{
			"import sys",
			"from IPython.display import display, HTML",
			"print('out1')",
			"print('err1', file=sys.stderr)",
			"display(HTML('<b>hi</b>'))",
			"print('out2')",
			"40 + 2",
		}, "\n"), &jupyter.ExecuteOptions{
			OnOutput:        func(o jupyter.Output) { live = append(live, o) },
			UserExpressions: map[string]string{"two": "1 + 1"},
			StoreHistory:    true, // advances the execution count
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Stdout(); got != "out1\nout2\n" {
			t.Errorf("stdout %q", got)
		}
		if got := res.Stderr(); got != "err1\n" {
			t.Errorf("stderr %q", got)
		}
		if v, _ := res.Value(); v != "42" {
			t.Errorf("value %q, want 42", v)
		}
		var html string
		for _, o := range res.Outputs {
			if o.Type == jupyter.OutputDisplayData {
				json.Unmarshal(o.Data["text/html"], &html)
			}
		}
		if html != "<b>hi</b>" {
			t.Errorf("display_data text/html %q; outputs %+v", html, res.Outputs)
		}
		if res.Status != "ok" || res.ExecutionCount == 0 {
			t.Errorf("status %q, execution count %d", res.Status, res.ExecutionCount)
		}
		if !strings.Contains(string(res.UserExpressions["two"]), `"2"`) {
			t.Errorf("user expression: %s", res.UserExpressions["two"])
		}
		// The live view saw the same outputs, as they came.
		var liveOut strings.Builder
		kinds := map[jupyter.OutputType]int{}
		for _, o := range live {
			kinds[o.Type]++
			if o.Type == jupyter.OutputStream && o.Name == "stdout" {
				liveOut.WriteString(o.Text)
			}
		}
		if liveOut.String() != "out1\nout2\n" || kinds[jupyter.OutputDisplayData] != 1 || kinds[jupyter.OutputExecuteResult] != 1 {
			t.Errorf("live outputs: %+v", live)
		}
	})

	t.Run("error", func(t *testing.T) {
		res, err := k.Execute(ctx, "print('before')\n1/0", nil)
		var ee *jupyter.ExecError
		if !errors.As(err, &ee) || ee.EName != "ZeroDivisionError" || len(ee.Traceback) == 0 {
			t.Fatalf("err %v, want a ZeroDivisionError with a traceback", err)
		}
		if res.Status != "error" || res.Stdout() != "before\n" {
			t.Errorf("status %q, stdout %q", res.Status, res.Stdout())
		}
		last := res.Outputs[len(res.Outputs)-1]
		if last.Type != jupyter.OutputError || last.EName != "ZeroDivisionError" {
			t.Errorf("last output %+v, want the error", last)
		}
	})

	t.Run("clear_output", func(t *testing.T) {
		res := run(t, k, "from IPython.display import clear_output\nprint('a')\nclear_output()\nprint('b')")
		if res.Stdout() != "b\n" {
			t.Errorf("stdout %q, want b after clear_output", res.Stdout())
		}
	})

	t.Run("silent", func(t *testing.T) {
		res, err := k.Execute(ctx, "silent_ran = True\n5", &jupyter.ExecuteOptions{Silent: true})
		if _, ok := res.Value(); err != nil || ok {
			t.Fatalf("silent: err %v, outputs %+v; want no value", err, res.Outputs)
		}
		if v := value(t, k, "silent_ran"); v != "True" {
			t.Errorf("silent code did not run: %s", v)
		}
	})

	t.Run("truncated", func(t *testing.T) {
		c := newClient(t, srv.URL, srv.Token, func(cfg *jupyter.Config) { cfg.MaxOutputBytes = 1000 })
		k, err := c.Connect(ctx, k.ID())
		if err != nil {
			t.Fatal(err)
		}
		defer k.Close()
		n := 0
		res, err := k.Execute(ctx, "for i in range(500): print('line', i)", &jupyter.ExecuteOptions{
			OnOutput: func(o jupyter.Output) { n += len(o.Text) },
		})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Truncated || len(res.Stdout()) > 1000 || n < 4000 {
			t.Errorf("truncated %v, kept %d bytes, live view saw %d", res.Truncated, len(res.Stdout()), n)
		}
	})
}

func TestREST(t *testing.T) {
	noLeaks(t)
	srv := jupytertest.Shared(t)
	c := newClient(t, srv.URL, srv.Token, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	if _, err := c.Status(ctx); err != nil {
		t.Fatal(err)
	}
	bad := newClient(t, srv.URL, "wrong", nil)
	if _, err := bad.Kernels(ctx); !errors.Is(err, jupyter.ErrUnauthorized) {
		t.Errorf("wrong token: %v, want ErrUnauthorized", err)
	}
	const missing = "00000000-0000-4000-8000-000000000000"
	if _, err := c.Kernel(ctx, missing); !errors.Is(err, jupyter.ErrKernelNotFound) {
		t.Errorf("unknown kernel: %v, want ErrKernelNotFound", err)
	}
	if _, err := c.Connect(ctx, missing); !errors.Is(err, jupyter.ErrKernelNotFound) {
		t.Errorf("connect to unknown kernel: %v, want ErrKernelNotFound", err)
	}
	if _, err := c.Kernel(ctx, "../contents"); err == nil {
		t.Error("a kernel id with a path in it was accepted")
	}

	s, err := c.CreateSession(ctx, "nb.ipynb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.DeleteSession(ctx, s.ID)
	ss, err := c.Sessions(ctx)
	if err != nil || len(ss) == 0 {
		t.Fatalf("sessions %v, %v", ss, err)
	}
	var found *jupyter.Session
	for i := range ss {
		if ss[i].Path == "nb.ipynb" {
			found = &ss[i]
		}
	}
	if found == nil || found.Kernel.ID != s.Kernel.ID {
		t.Fatalf("session for nb.ipynb not listed: %+v", ss)
	}
	ks, err := c.Kernels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	listed := false
	for _, km := range ks {
		listed = listed || km.ID == s.Kernel.ID
	}
	if !listed {
		t.Errorf("session's kernel %s not in %+v", s.Kernel.ID, ks)
	}
	// The session's kernel is one a notebook user would be using.
	k, err := c.Connect(ctx, found.Kernel.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if v := value(t, k, "6 * 7"); v != "42" {
		t.Errorf("value %q", v)
	}
}

// Five executions submitted at once each get their own outputs, while
// another client runs code on the same kernel and the server sends its
// own kernel_info requests.
func TestConcurrentExecutes(t *testing.T) {
	noLeaks(t)
	srv := jupytertest.Shared(t)
	c := newClient(t, srv.URL, srv.Token, nil)
	k := startKernel(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	other, err := c.Connect(ctx, k.ID()) // a second client: its own session
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	noise := make(chan error, 1)
	go func() {
		for i := 0; i < 5; i++ {
			res, err := other.Execute(ctx, fmt.Sprintf("print('noise %d')\n'noise'", i), nil)
			if err == nil && res.Stdout() != fmt.Sprintf("noise %d\n", i) {
				err = fmt.Errorf("noise run %d got %q", i, res.Stdout())
			}
			if err != nil {
				noise <- err
				return
			}
		}
		noise <- nil
	}()

	const n = 5
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := fmt.Sprintf("import time, sys\nprint('start %d')\ntime.sleep(%g)\nprint('err %d', file=sys.stderr)\nprint('end %d')\n%d * 1000",
				i, 0.05*float64(n-i), i, i, i)
			res, err := k.Execute(ctx, code, nil)
			switch {
			case err != nil:
				errs[i] = err
			case res.Stdout() != fmt.Sprintf("start %d\nend %d\n", i, i):
				errs[i] = fmt.Errorf("stdout %q", res.Stdout())
			case res.Stderr() != fmt.Sprintf("err %d\n", i):
				errs[i] = fmt.Errorf("stderr %q", res.Stderr())
			default:
				if v, _ := res.Value(); v != fmt.Sprint(i*1000) {
					errs[i] = fmt.Errorf("value %q", v)
				}
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("execution %d: %v", i, err)
		}
	}
	if err := <-noise; err != nil {
		t.Errorf("other client: %v", err)
	}
}

func TestInterrupt(t *testing.T) {
	noLeaks(t)
	srv := jupytertest.Shared(t)
	c := newClient(t, srv.URL, srv.Token, nil)
	k := startKernel(t, c)
	// Far below the sleep: the interrupt, not the sleep's end, finishes it.
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	onOut, running := started("sleeping")
	done := make(chan error, 1)
	go func() {
		_, err := k.Execute(ctx, "import time\nprint('sleeping', flush=True)\ntime.sleep(60)", &jupyter.ExecuteOptions{OnOutput: onOut})
		done <- err
	}()
	wait(t, running, "the sleep to start")
	if err := k.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	err := <-done
	var ee *jupyter.ExecError
	if !errors.As(err, &ee) || ee.EName != "KeyboardInterrupt" {
		t.Fatalf("interrupted execution: %v, want KeyboardInterrupt", err)
	}
	if v := value(t, k, "'still here'"); v != "'still here'" {
		t.Errorf("after interrupt: %s", v)
	}
}

func TestKernelRestart(t *testing.T) {
	noLeaks(t)
	srv := jupytertest.Shared(t)
	// Probes off: the restart must show in the kernel's own messages.
	c := newClient(t, srv.URL, srv.Token, func(cfg *jupyter.Config) { cfg.ProbeInterval = -1 })
	k := startKernel(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	run(t, k, "x = 1")
	onOut, running := started("sleeping")
	done := make(chan error, 1)
	go func() {
		_, err := k.Execute(ctx, "import time\nprint('sleeping', flush=True)\ntime.sleep(60)", &jupyter.ExecuteOptions{OnOutput: onOut})
		done <- err
	}()
	wait(t, running, "the sleep to start")
	// Someone else restarts the kernel (the user, in JupyterLab).
	if _, err := c.RestartKernel(ctx, k.ID()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, jupyter.ErrKernelRestarted) {
		t.Fatalf("execution during restart: %v, want ErrKernelRestarted", err)
	}
	_, err := k.Execute(ctx, "x", nil)
	var ee *jupyter.ExecError
	if !errors.As(err, &ee) || ee.EName != "NameError" {
		t.Errorf("x after restart: %v, want NameError (a fresh kernel)", err)
	}
	if v := value(t, k, "2 + 2"); v != "4" {
		t.Errorf("after restart: %s", v)
	}

	// Restarting through the Kernel fails what runs and what waits.
	onOut, running = started("sleeping")
	first, second := make(chan error, 1), make(chan error, 1)
	go func() {
		_, err := k.Execute(ctx, "import time\nprint('sleeping', flush=True)\ntime.sleep(60)", &jupyter.ExecuteOptions{OnOutput: onOut})
		first <- err
	}()
	wait(t, running, "the sleep to start")
	go func() {
		_, err := k.Execute(ctx, "'queued'", nil)
		second <- err
	}()
	for k.Pending() < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	if err := k.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-first; !errors.Is(err, jupyter.ErrKernelRestarted) {
		t.Errorf("running execution: %v, want ErrKernelRestarted", err)
	}
	if err := <-second; !errors.Is(err, jupyter.ErrKernelRestarted) {
		t.Errorf("queued execution: %v, want ErrKernelRestarted", err)
	}
	if v := value(t, k, "3 + 3"); v != "6" {
		t.Errorf("after second restart: %s", v)
	}
}
