package kubestack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/util/retry"
)

// kubeletProxy stands between the API server and kwok's kubelet server (the
// node's advertised port is the proxy's) to end followed logs the way a
// kubelet does. kwok v0.7.0 cannot tell that a container has exited, so a
// `logs --follow` through it never ends, even for a completed pod; a kubelet
// ends it when the container exits. The proxy drops follow for containers
// that have terminated and ends a followed stream when its container
// terminates. Likewise kwok cannot run the `kill` that Argo's controller
// execs in a step's containers to stop it (cancel, deadline): the proxy
// answers such an exec itself by marking the container terminated by that
// signal (exit code 128+signal), and the pod Failed once no container runs,
// as a kubelet would report. Everything else passes through unchanged.
type kubeletProxy struct {
	s      *Stack
	kwok   string // host:port of kwok's server
	client *http.Client
	rp     *httputil.ReverseProxy
	srv    *http.Server
}

// startKubeletProxy serves on a free loopback port, which it returns.
func (s *Stack) startKubeletProxy(kwokAddr, certFile, keyFile string) (int, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAData)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	target := &url.URL{Scheme: "https", Host: kwokAddr}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = tr
	rp.FlushInterval = -1
	p := &kubeletProxy{s: s, kwok: kwokAddr, client: &http.Client{Transport: tr}, rp: rp}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.ServeTLS(ln, certFile, keyFile) }()
	s.mu.Lock()
	s.closers = append(s.closers, func() { _ = p.srv.Close(); tr.CloseIdleConnections() })
	s.mu.Unlock()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (p *kubeletProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// /containerLogs/{namespace}/{pod}/{container}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) == 4 && parts[0] == "exec" {
		if sig, ok := killSignal(r.URL.Query()["command"]); ok {
			p.kill(w, r, parts[1], parts[2], parts[3], sig)
			return
		}
	}
	if len(parts) != 4 || parts[0] != "containerLogs" || r.URL.Query().Get("follow") != "true" {
		p.rp.ServeHTTP(w, r)
		return
	}
	ns, pod, container := parts[1], parts[2], parts[3]
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()

	cur, err := p.s.kube.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		p.rp.ServeHTTP(w, r)
		return
	}
	if containerTerminated(cur, container) {
		q := r.URL.Query()
		q.Del("follow")
		r.URL.RawQuery = q.Encode()
		p.rp.ServeHTTP(w, r)
		return
	}
	go p.cancelWhenTerminated(ctx, cancel, cur, container)

	req, err := http.NewRequestWithContext(ctx, r.Method, "https://"+p.kwok+r.URL.RequestURI(), nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp, err := p.client.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		if k == "Content-Length" || k == "Transfer-Encoding" || k == "Connection" {
			continue
		}
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	flusher, _ := w.(http.Flusher)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if err != nil {
			// EOF, or the container ended: end the response cleanly, as a
			// kubelet does.
			return
		}
	}
}

// cancelWhenTerminated watches the pod and calls cancel shortly after the
// container terminates (the delay lets the last lines through).
func (p *kubeletProxy) cancelWhenTerminated(ctx context.Context, cancel context.CancelFunc, pod *corev1.Pod, container string) {
	defer cancel()
	w, err := p.s.kube.CoreV1().Pods(pod.Namespace).Watch(ctx, metav1.ListOptions{
		FieldSelector:   fields.OneTermEqualSelector("metadata.name", pod.Name).String(),
		ResourceVersion: pod.ResourceVersion,
	})
	if err != nil {
		if !errors.Is(ctx.Err(), context.Canceled) {
			p.s.logf("kubestack: kubelet proxy: watch pod %s/%s: %v; the followed log ends now", pod.Namespace, pod.Name, err)
		}
		return
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.ResultChan():
			if !ok {
				return // watch ended (API server restarted): end the stream too
			}
			if cur, isPod := ev.Object.(*corev1.Pod); isPod && containerTerminated(cur, container) {
				select {
				case <-time.After(200 * time.Millisecond):
				case <-ctx.Done():
				}
				return
			}
		}
	}
}

// killSignal recognizes the commands Argo's controller execs to signal a
// step's process: `argoexec kill SIG 1` and `/bin/sh -c "kill -SIG 1"`.
func killSignal(cmd []string) (int, bool) {
	switch {
	case len(cmd) == 4 && strings.HasSuffix(cmd[0], "argoexec") && cmd[1] == "kill" && cmd[3] == "1":
		n, err := strconv.Atoi(cmd[2])
		return n, err == nil
	case len(cmd) == 3 && cmd[1] == "-c" && strings.HasPrefix(cmd[2], "kill -") && strings.HasSuffix(cmd[2], " 1"):
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(cmd[2], "kill -"), " 1"))
		return n, err == nil
	}
	return 0, false
}

// kill marks container terminated by signal sig, and the pod Failed when no
// container is left running.
func (p *kubeletProxy) kill(w http.ResponseWriter, r *http.Request, ns, pod, container string, sig int) {
	now := metav1.Now()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := p.s.kube.CoreV1().Pods(ns).Get(r.Context(), pod, metav1.GetOptions{})
		if err != nil {
			return err
		}
		running := 0
		for i := range cur.Status.ContainerStatuses {
			cs := &cur.Status.ContainerStatuses[i]
			if cs.Name == container && cs.State.Running != nil {
				started := cs.State.Running.StartedAt
				cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
					ExitCode:   int32(128 + sig),
					Reason:     "Error",
					StartedAt:  started,
					FinishedAt: now,
				}}
				cs.Ready = false
			}
			if cs.State.Running != nil {
				running++
			}
		}
		if running == 0 && cur.Status.Phase == corev1.PodRunning {
			cur.Status.Phase = corev1.PodFailed
		}
		_, err = p.s.kube.CoreV1().Pods(ns).UpdateStatus(r.Context(), cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		http.Error(w, "kubestack: kill: "+err.Error(), http.StatusInternalServerError)
		return
	}
	// There is no process to exec in; the caller (Argo) ignores the error.
	http.Error(w, fmt.Sprintf("kubestack: no exec here; container %s of %s/%s marked terminated by signal %d", container, ns, pod, sig), http.StatusNotImplemented)
}

func containerTerminated(pod *corev1.Pod, container string) bool {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed || pod.DeletionTimestamp != nil {
		return true
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == container {
			return cs.State.Terminated != nil
		}
	}
	return false
}
