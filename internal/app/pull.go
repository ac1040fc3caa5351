package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/datainsight/datainsight/internal/s3store"
	"github.com/datainsight/datainsight/service"
)

func newPullCmd(s *streams) *cobra.Command {
	var from, runsDir, outDir string
	cmd := &cobra.Command{
		Use:   "pull RUN STEP [NAME...]",
		Short: "Fetch the values a step of a past run saved",
		Long: `Pull copies the values a step of a past run saved (all of them, or those
named) into a folder, with the step's manifest: the layout the step runtime
loads from. From a local run's folder by default; with --from s3://BUCKET/PREFIX,
from object storage, where local runs with a store and Argo runs in
artifacts mode keep theirs (endpoint and keys from AWS_ENDPOINT_URL,
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY). Large values show their
progress on a terminal; a download broken off is resumed.`,
		Example: `  datainsight pull iris-x7k2q train model -o ./model
  datainsight pull iris-x7k2q load --from s3://runs/team -o ./data`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usagef("pull: want RUN STEP [NAME...]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			run, step, names := args[0], args[1], args[2:]
			if outDir == "" {
				outDir = step
			}
			target := from
			if target == "" {
				dir, err := pullRunsDir(runsDir)
				if err != nil {
					return err
				}
				st, err := localStore(dir, run)
				if err != nil {
					return err
				}
				if st == nil {
					return pullLocal(s, dir, run, step, names, outDir)
				}
				target = st.Target()
			}
			cfg, err := s3store.ParseTarget(target)
			if err != nil {
				return usageError{err}
			}
			if cfg, err = cfg.FromEnv(os.Getenv); err != nil {
				return err
			}
			store, err := s3store.Open(cmd.Context(), cfg)
			if err != nil {
				return fmt.Errorf("pull: %w", err)
			}
			bar := newPullProgress(s.errOut)
			m, err := store.GetStep(cmd.Context(), run, step, outDir, names, s3store.TransferOptions{Progress: bar.update})
			bar.done()
			if err != nil {
				return fmt.Errorf("pull: %w", err)
			}
			return pulled(s, m, names, outDir)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "object storage to pull from: s3://BUCKET[/PREFIX] (default: the local runs folder, or the store the local run used)")
	cmd.Flags().StringVar(&runsDir, "runs-dir", "", "where local runs are recorded (default $DATAINSIGHT_RUNS_DIR, else the config file's runs_dir, else .datainsight/runs in the current folder)")
	cmd.Flags().StringVarP(&outDir, "output", "o", "", "folder to put the values in (default: a folder named after the step)")
	return cmd
}

// pullRunsDir is the local runs folder: the flag, else the configuration's
// (DATAINSIGHT_RUNS_DIR, the config file), else the current folder's.
func pullRunsDir(flag string) (string, error) {
	cfg, err := service.LoadConfig(os.Getenv, service.Config{RunsDir: flag})
	if err != nil {
		return "", err
	}
	if cfg.RunsDir != "" {
		return cfg.RunsDir, nil
	}
	return filepath.Join(".datainsight", "runs"), nil
}

// localStore returns the store a local run kept its values in, from its
// record, or nil.
func localStore(runsDir, run string) (*s3store.Config, error) {
	if run == "" || strings.ContainsAny(run, `/\`) || strings.HasPrefix(run, ".") {
		return nil, usagef("pull: %q is not a run id", run)
	}
	data, err := os.ReadFile(filepath.Join(runsDir, run, "run.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("pull: no run %s in %s (a run kept in object storage: --from s3://BUCKET/PREFIX)", run, runsDir)
	}
	if err != nil {
		return nil, fmt.Errorf("pull: %w", err)
	}
	var rec struct {
		Store *s3store.Config `json:"store"`
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("pull: run %s: its record %s: %w", run, filepath.Join(runsDir, run, "run.json"), err)
	}
	return rec.Store, nil
}

// pullLocal copies values of a local run's step folder.
func pullLocal(s *streams, runsDir, run, step string, names []string, outDir string) error {
	if step == "" || strings.ContainsAny(step, `/\`) || strings.HasPrefix(step, ".") {
		return usagef("pull: %q is not a step name", step)
	}
	src := filepath.Join(runsDir, run, step)
	data, err := os.ReadFile(filepath.Join(src, s3store.ManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pull: step %s of run %s saved no values (no %s)", step, run, filepath.Join(src, s3store.ManifestFile))
	}
	if err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	m, err := s3store.ParseManifest(data)
	if err != nil {
		return fmt.Errorf("pull: step %s of run %s: %w", step, run, err)
	}
	files := map[string]bool{}
	for _, n := range orAll(names, m) {
		v, ok := m.Values[n]
		if !ok {
			return fmt.Errorf("pull: step %s of run %s saved no %s (it saved: %s)", step, run, n, strings.Join(m.Names(), ", "))
		}
		files[v.File] = true
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	for f := range files {
		if err := copyFileTo(filepath.Join(src, f), filepath.Join(outDir, f)); err != nil {
			return fmt.Errorf("pull: %w", err)
		}
	}
	if err := copyFileTo(filepath.Join(src, s3store.ManifestFile), filepath.Join(outDir, s3store.ManifestFile)); err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	return pulled(s, m, names, outDir)
}

func orAll(names []string, m *s3store.Manifest) []string {
	if len(names) == 0 {
		return m.Names()
	}
	return names
}

// pulled prints, on stdout, one line per value: its name, type, size and
// file.
func pulled(s *streams, m *s3store.Manifest, names []string, outDir string) error {
	for _, n := range orAll(names, m) {
		v := m.Values[n]
		fmt.Fprintf(s.out, "%s\t%s\t%d\t%s\n", n, v.Type, v.Size, filepath.Join(outDir, v.File))
	}
	return nil
}

// copyFileTo copies src to dst through a temporary file renamed into place.
func copyFileTo(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".pulling"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// pullProgress shows the transfers on stderr: a line redrawn in place on
// a terminal, at most a few times a second; elsewhere one line per file
// when it is done (and one when a download is resumed).
type pullProgress struct {
	w     io.Writer
	tty   bool
	mu    sync.Mutex
	last  time.Time
	drawn bool
}

func newPullProgress(w io.Writer) *pullProgress {
	p := &pullProgress{w: w}
	if f, ok := w.(*os.File); ok {
		p.tty = term.IsTerminal(int(f.Fd()))
	}
	return p
}

func (p *pullProgress) update(u s3store.Update) {
	p.mu.Lock()
	defer p.mu.Unlock()
	name := filepath.Base(u.File)
	switch {
	case u.Resumed:
		p.clear()
		fmt.Fprintf(p.w, "pull: %s: the transfer broke off; resumed at %s\n", name, mib(u.Done))
	case p.tty && (time.Since(p.last) > 200*time.Millisecond || u.Done == u.Total):
		p.last = time.Now()
		pct := 100.0
		if u.Total > 0 {
			pct = 100 * float64(u.Done) / float64(u.Total)
		}
		fmt.Fprintf(p.w, "\r\x1b[Kpull: %s %s / %s (%.0f%%)", name, mib(u.Done), mib(u.Total), pct)
		p.drawn = true
	case !p.tty && u.Done == u.Total:
		fmt.Fprintf(p.w, "pull: %s %s\n", name, mib(u.Total))
	}
}

func (p *pullProgress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

func (p *pullProgress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
