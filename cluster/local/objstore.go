package local

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/datainsight/datainsight/internal/s3store"
	"github.com/datainsight/datainsight/pipelinegen"
)

// With a store (Local.Store), a run keeps its values in object storage as
// a cluster run does: each succeeded step's folder (values, manifest,
// report, log) is uploaded, and each step loads its inputs from a folder
// of its own that holds only what it loads, downloaded from the store just
// before it runs and removed after it. The run folder keeps its copy of
// every step's outputs, so the cache, --resume and explore work as
// without a store.

// stageDir is the marshal root a step sees in a run with a store: under
// the run's folder, with a name no step can have.
func stageDir(runDir, step string) string { return filepath.Join(runDir, ".inputs-"+step) }

// openStore connects to the run's store once per runner. The run records
// where the store is, never its keys: they come from this process's
// configuration when it names the same store, else from its environment
// (a detached runner inherits the environment of the command that started
// it).
func (r *runner) openStore(ctx context.Context) (*s3store.Store, error) {
	r.storeOnce.Do(func() { r.store3, r.storeErr = r.l.openRunStore(ctx, r.st.Store) })
	return r.store3, r.storeErr
}

// openRunStore connects to the store a run recorded (state.Store), with
// the keys of this backend's own store when it is the same one, else the
// environment's.
func (l *Local) openRunStore(ctx context.Context, where *s3store.Config) (*s3store.Store, error) {
	cfg := *where
	if own := l.Store; own != nil && own.Endpoint == cfg.Endpoint && own.Bucket == cfg.Bucket {
		cfg.AccessKey, cfg.SecretKey = own.AccessKey, own.SecretKey
	}
	cfg, err := cfg.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	return s3store.Open(ctx, cfg)
}

// deleteStored removes a run's objects from the store it recorded, before
// its records go: a store that cannot be reached fails the delete and
// leaves the run listed, so that deleting it again once the store is back
// removes both, and no objects are left that nothing names.
func (l *Local) deleteStored(ctx context.Context, id string, st *state) error {
	if st == nil || st.Store == nil {
		return nil
	}
	store, err := l.openRunStore(ctx, st.Store)
	if err == nil {
		err = store.DeleteRun(ctx, id)
	}
	if err != nil {
		return fmt.Errorf("delete %s: its values in %s/%s: %w (the run is kept; delete it again once the store can be reached)", id, st.Store.Target(), id, err)
	}
	return nil
}

// stageInputs downloads the values step s loads into a marshal root of
// its own, where its own folder is the run folder's (a link), and returns
// that root. What it did is written to log.
func (r *runner) stageInputs(ctx context.Context, s *pipelinegen.Step, log *stepLog) (string, error) {
	store, err := r.openStore(ctx)
	if err != nil {
		return "", err
	}
	root := stageDir(r.dir, s.Name)
	os.RemoveAll(root)
	if err := os.MkdirAll(filepath.Join(root, r.st.ID), 0o755); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(r.dir, s.Name), 0o755); err != nil {
		return "", err
	}
	if err := os.Symlink(filepath.Join(r.dir, s.Name), filepath.Join(root, r.st.ID, s.Name)); err != nil {
		return "", err
	}
	byProducer := map[string][]string{}
	for name, producer := range s.Ins {
		byProducer[producer] = append(byProducer[producer], name)
	}
	producers := slices.Sorted(maps.Keys(byProducer))
	for _, p := range producers {
		names := byProducer[p]
		sort.Strings(names)
		start := time.Now()
		m, err := store.GetStep(ctx, r.st.ID, p, filepath.Join(root, r.st.ID, p), names, s3store.TransferOptions{})
		if err != nil {
			return "", fmt.Errorf("inputs %s from step %s: %w", strings.Join(names, ", "), p, err)
		}
		var size int64
		files := map[string]bool{}
		for _, n := range names {
			if v := m.Values[n]; !files[v.File] {
				files[v.File] = true
				size += v.Size
			}
		}
		fmt.Fprintf(log, "datainsight: downloaded %s from %s (%d bytes, %.2f s)\n",
			strings.Join(names, ", "), store.Config().Target()+"/"+r.st.ID+"/"+p, size, time.Since(start).Seconds())
	}
	return root, nil
}

// uploadOutputs uploads a succeeded step's folder to the run's store.
func (r *runner) uploadOutputs(ctx context.Context, s *pipelinegen.Step) error {
	store, err := r.openStore(ctx)
	if err != nil {
		return err
	}
	dir := filepath.Join(r.dir, s.Name)
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return nil // a step that saved nothing and printed nothing
	}
	start := time.Now()
	if err := store.PutStep(ctx, r.st.ID, s.Name, dir, s3store.TransferOptions{}); err != nil {
		return err
	}
	if f, err := os.OpenFile(filepath.Join(r.dir, logsDir, s.Name+".log"), os.O_WRONLY|os.O_APPEND, 0); err == nil {
		fmt.Fprintf(f, "datainsight: uploaded the outputs to %s/%s/%s/ (%.2f s)\n", store.Config().Target(), r.st.ID, s.Name, time.Since(start).Seconds())
		f.Close()
	}
	return nil
}
