package s3store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/datainsight/datainsight/internal/atomicfile"
)

// What a step folder holds besides its values, as the step runtime names
// them (pipelinegen/runtime).
const (
	ManifestFile = "manifest.json"
	// tmpPrefix starts the runtime's temporary files: never uploaded.
	tmpPrefix = ".tmp-"
	// ArtifactSuffix ends the name a value has in the folder of a step run
	// on Argo in artifacts mode, where each value is an artifact of its
	// own whose path is fixed before its format is known
	// (pipelinegen.ArtifactFile).
	ArtifactSuffix = ".artifact"
)

// Sentinel errors callers branch on; the errors that wrap them say which
// bucket, endpoint, run and step.
var (
	ErrNoBucket     = errors.New("no such bucket")
	ErrAccessDenied = errors.New("access denied")
	ErrNotFound     = errors.New("not found in the store")
	ErrStorageFull  = errors.New("the store is full")
	ErrUnreachable  = errors.New("the store cannot be reached")
	// ErrIncomplete is the error of a step whose manifest is not in the
	// store: it has not finished saving (or its upload failed midway),
	// and what values of it are there must not be read.
	ErrIncomplete = errors.New("the step's outputs are incomplete")
	// ErrDamaged is the error of a downloaded value whose size or checksum
	// is not what its manifest says.
	ErrDamaged = errors.New("damaged value")
)

// Store keeps the step folders of runs in one bucket, under
// <prefix>/<run>/<step>/<file>, the layout of the local marshal root; each
// step's manifest.json is uploaded last and removed first, so a reader that
// goes by it never sees half a step.
type Store struct {
	cfg  Config
	core *minio.Core
	// Parallel is how many files of one step move at once (default 4).
	Parallel int
	// Resumes is how many times a download broken off midway (the
	// connection dropped, the server restarted) is resumed from where it
	// stopped before giving up (default 8).
	Resumes int
}

// Open connects to the store cfg names (credentials included: see
// Config.FromEnv) and checks that its bucket exists and the keys may read
// it, so that a wrong key or bucket is reported here, naming both, and
// not as a step's failure later.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var creds *credentials.Credentials
	if cfg.AccessKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	} else {
		creds = credentials.New(&credentials.Static{}) // anonymous: a public bucket
	}
	core, err := minio.NewCore(cfg.Endpoint, &minio.Options{
		Creds: creds, Secure: !cfg.PlainHTTP, Region: cfg.Region,
		// Path-style requests: MinIO and most S3-compatible servers
		// have no wildcard DNS for virtual-hosted buckets.
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 store %s at %s: %w", cfg.Target(), cfg.Endpoint, err)
	}
	s := &Store{cfg: cfg, core: core}
	// ListObjects, not BucketExists: it needs only the read permission a
	// user of the store has anyway, and says NoSuchBucket or AccessDenied.
	_, err = core.ListObjectsV2(cfg.Bucket, s.prefix(""), "", "", "/", 1)
	if err != nil {
		return nil, s.wrap("open", "", err)
	}
	return s, nil
}

// Config returns the store's configuration.
func (s *Store) Config() Config { return s.cfg }

// Client is the store's minio-go client, for what this package does not do.
func (s *Store) Client() *minio.Client { return s.core.Client }

func (s *Store) parallel() int {
	if s.Parallel > 0 {
		return s.Parallel
	}
	return 4
}

// prefix returns the key prefix of p (a run, a run/step), ending in "/".
func (s *Store) prefix(p string) string {
	k := path.Join(s.cfg.Prefix, p)
	if k == "" || k == "." {
		return ""
	}
	return k + "/"
}

// Key is the object key of a file of a step of a run.
func (s *Store) Key(run, step, file string) string {
	return path.Join(s.cfg.Prefix, run, step, file)
}

// checkNames refuses names that are not one path segment each: they would
// put a step's objects where another's are.
func checkNames(what ...string) error {
	for i := 0; i < len(what); i += 2 {
		kind, name := what[i], what[i+1]
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
			return fmt.Errorf("%s %q is not a name the store can hold", kind, name)
		}
	}
	return nil
}

// wrap turns a client error into one that says what was being done, where,
// and (through the sentinels) what kind of failure it is.
func (s *Store) wrap(op, key string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	where := fmt.Sprintf("bucket %q at %s", s.cfg.Bucket, s.cfg.Endpoint)
	if key != "" {
		where = fmt.Sprintf("s3://%s/%s at %s", s.cfg.Bucket, key, s.cfg.Endpoint)
	}
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case "NoSuchBucket":
		return fmt.Errorf("%s: %w: bucket %q does not exist at %s (create it, or name another)", op, ErrNoBucket, s.cfg.Bucket, s.cfg.Endpoint)
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken", "InvalidSecurity":
		return fmt.Errorf("%s %s: %w (%s): check %s and %s", op, where, ErrAccessDenied, resp.Message, EnvAccessKey, EnvSecretKey)
	case "NoSuchKey":
		return fmt.Errorf("%s %s: %w", op, where, ErrNotFound)
	case "XMinioStorageFull", "QuotaExceeded", "XMinioAdminBucketQuotaExceeded":
		return fmt.Errorf("%s %s: %w: %s", op, where, ErrStorageFull, resp.Message)
	}
	var nerr net.Error
	var operr *net.OpError
	if errors.As(err, &operr) || errors.As(err, &nerr) {
		return fmt.Errorf("%s %s: %w: %v", op, where, ErrUnreachable, err)
	}
	return fmt.Errorf("%s %s: %w", op, where, err)
}

// Manifest is what a step's manifest.json says of its values (the step
// runtime writes more; Raw has all of it).
type Manifest struct {
	Values map[string]Value `json:"values"`
	Raw    []byte           `json:"-"`
}

// Value is one value of a manifest.
type Value struct {
	File     string `json:"file"`
	Size     int64  `json:"size"`
	Checksum string `json:"checksum"` // "sha256:<hex>"
	Format   string `json:"format"`
	Type     string `json:"type"`
	// Group names the file that holds this value with others that share
	// objects with it.
	Group string `json:"group,omitempty"`
}

// ParseManifest reads a manifest, checking that every value names a file
// in its folder.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	for name, v := range m.Values {
		if err := checkNames("file", v.File); err != nil || v.File == ManifestFile || strings.HasPrefix(v.File, tmpPrefix) {
			return nil, fmt.Errorf("manifest: value %q: file %q is not a file of the step's folder", name, v.File)
		}
		if v.Size < 0 {
			return nil, fmt.Errorf("manifest: value %q: size %d", name, v.Size)
		}
	}
	m.Raw = data
	return &m, nil
}

// Names returns the manifest's value names, sorted.
func (m *Manifest) Names() []string {
	names := make([]string, 0, len(m.Values))
	for n := range m.Values {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Update reports how far one file's transfer has come.
type Update struct {
	Key   string // the object's key
	File  string // the local file
	Done  int64  // bytes moved so far
	Total int64
	// Resumed is set on the update that follows a transfer broken off
	// midway and resumed at Done.
	Resumed bool
}

// TransferOptions tune PutStep and GetStep.
type TransferOptions struct {
	// Progress, when set, is called as files move: from the transfers'
	// goroutines, so it must be quick and safe for concurrent use (the CLI
	// renders a bar, the sidecar forwards it).
	Progress func(Update)
}

func (o TransferOptions) report(u Update) {
	if o.Progress != nil {
		o.Progress(u)
	}
}

// PutStep uploads a step's folder (its values, manifest, report, metrics
// and log; not the runtime's temporary files nor hidden ones) to
// <prefix>/<run>/<step>/. The step's old manifest is removed first and the
// new one uploaded last, and each object appears whole or not at all (S3
// shows a multipart upload only once completed): a reader never takes part
// of a step for all of it. Objects of an earlier upload of the step that
// this one does not have are removed at the end.
func (s *Store) PutStep(ctx context.Context, run, step, dir string, opts TransferOptions) error {
	if err := checkNames("run", run, "step", step); err != nil {
		return err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("upload step %s of run %s: %w", step, run, err)
	}
	var files []string
	hasManifest := false
	for _, e := range ents {
		n := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(n, ".") {
			continue
		}
		if n == ManifestFile {
			hasManifest = true
			continue
		}
		files = append(files, n)
	}
	if hasManifest {
		// Every value the manifest names must be there, whole, before any
		// upload: the manifest would otherwise promise what is not stored.
		data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
		if err != nil {
			return fmt.Errorf("upload step %s of run %s: %w", step, run, err)
		}
		m, err := ParseManifest(data)
		if err != nil {
			return fmt.Errorf("upload step %s of run %s: %s: %w", step, run, filepath.Join(dir, ManifestFile), err)
		}
		for _, name := range m.Names() {
			v := m.Values[name]
			fi, err := os.Stat(filepath.Join(dir, v.File))
			if err != nil {
				return fmt.Errorf("upload step %s of run %s: value %s: %w", step, run, name, err)
			}
			if fi.Size() != v.Size {
				return fmt.Errorf("upload step %s of run %s: value %s: %w: %s has %d bytes, the manifest says %d",
					step, run, name, ErrDamaged, filepath.Join(dir, v.File), fi.Size(), v.Size)
			}
		}
	}
	mkey := s.Key(run, step, ManifestFile)
	if err := s.core.RemoveObject(ctx, s.cfg.Bucket, mkey, minio.RemoveObjectOptions{}); err != nil {
		return s.wrap("upload: remove the old manifest", mkey, err)
	}
	if err := s.each(ctx, files, func(ctx context.Context, f string) error {
		return s.putFile(ctx, s.Key(run, step, f), filepath.Join(dir, f), opts)
	}); err != nil {
		return fmt.Errorf("upload step %s of run %s: %w", step, run, err)
	}
	if hasManifest {
		if err := s.putFile(ctx, mkey, filepath.Join(dir, ManifestFile), opts); err != nil {
			return fmt.Errorf("upload step %s of run %s: %w", step, run, err)
		}
		files = append(files, ManifestFile)
	}
	return s.removeOthers(ctx, s.prefix(path.Join(run, step)), files)
}

// each runs f on every file, Parallel at a time, and returns the first
// error (the others are cancelled).
func (s *Store) each(ctx context.Context, files []string, f func(context.Context, string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, s.parallel())
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for _, file := range files {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(ctx, file); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}

// maxSinglePut is the largest object S3 takes in one PUT.
const maxSinglePut = 5 << 30

func (s *Store) putFile(ctx context.Context, key, file string, opts TransferOptions) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	ct := "application/octet-stream"
	switch path.Ext(file) {
	case ".json":
		ct = "application/json"
	case ".html":
		ct = "text/html; charset=utf-8"
	case ".log":
		ct = "text/plain; charset=utf-8"
	}
	po := minio.PutObjectOptions{ContentType: ct}
	if opts.Progress != nil {
		po.Progress = &progressReader{u: Update{Key: key, File: file, Total: fi.Size()}, report: opts.Progress}
	}
	// The file as a ReaderAt: minio-go then uploads its parts in parallel
	// straight from it, with no buffer per part.
	_, err = s.core.Client.PutObject(ctx, s.cfg.Bucket, key, f, fi.Size(), po)
	if minio.ToErrorResponse(err).Code == "NoSuchUpload" {
		// The server dropped the multipart upload under parts still being
		// sent: MinIO does this on a disk that fills midway, and the part
		// that got the real cause (the store is full) is not always the
		// one whose error comes back first. One more try, from the start
		// of the file, ends in that cause (or succeeds, if it was
		// transient): as one PUT where S3 allows one, for which the server
		// checks the whole size against its free space before it writes
		// (a part at a time could fill the disk midway again, and be
		// dropped again), else a part at a time.
		po.NumThreads = 1
		po.DisableMultipart = fi.Size() <= maxSinglePut
		if po.Progress != nil {
			po.Progress = &progressReader{u: Update{Key: key, File: file, Total: fi.Size()}, report: opts.Progress}
		}
		_, err = s.core.Client.PutObject(ctx, s.cfg.Bucket, key, io.NewSectionReader(f, 0, fi.Size()), fi.Size(), po)
	}
	if err != nil {
		return s.wrap("upload "+file+" to", key, err)
	}
	return nil
}

// progressReader is minio-go's progress hook: it is "read" as bytes are
// sent.
type progressReader struct {
	mu     sync.Mutex
	u      Update
	report func(Update)
}

func (p *progressReader) Read(b []byte) (int, error) {
	p.mu.Lock()
	p.u.Done += int64(len(b))
	u := p.u
	p.mu.Unlock()
	p.report(u)
	return len(b), nil
}

// removeOthers removes the objects under prefix whose names are not in keep.
func (s *Store) removeOthers(ctx context.Context, prefix string, keep []string) error {
	kept := map[string]bool{}
	for _, k := range keep {
		kept[k] = true
	}
	return s.removeWhere(ctx, prefix, func(rest string) bool { return !kept[rest] })
}

// removeWhere removes the objects under prefix for whose names (less the
// prefix) drop is true.
func (s *Store) removeWhere(ctx context.Context, prefix string, drop func(rest string) bool) error {
	stale := make(chan minio.ObjectInfo)
	var listErr error
	go func() {
		defer close(stale)
		for o := range s.core.Client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if o.Err != nil {
				listErr = o.Err
				return
			}
			if drop(strings.TrimPrefix(o.Key, prefix)) {
				select {
				case stale <- o:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	var rmErr error
	for e := range s.core.Client.RemoveObjects(ctx, s.cfg.Bucket, stale, minio.RemoveObjectsOptions{}) {
		if rmErr == nil {
			rmErr = s.wrap("remove", e.ObjectName, e.Err)
		}
	}
	if listErr != nil {
		return s.wrap("list", prefix, listErr)
	}
	return rmErr
}

// Manifest returns the manifest of a step of a run: ErrIncomplete when the
// step has objects but no manifest, ErrNotFound when it has none.
func (s *Store) Manifest(ctx context.Context, run, step string) (*Manifest, error) {
	if err := checkNames("run", run, "step", step); err != nil {
		return nil, err
	}
	key := s.Key(run, step, ManifestFile)
	data, err := s.readAll(ctx, key)
	if errors.Is(err, ErrNotFound) {
		res, lerr := s.core.ListObjectsV2(s.cfg.Bucket, s.prefix(path.Join(run, step)), "", "", "", 1)
		if lerr == nil && len(res.Contents) > 0 {
			return nil, fmt.Errorf("step %s of run %s in %s: %w: it has no %s (it did not finish saving, or its upload failed)",
				step, run, s.cfg.Target(), ErrIncomplete, ManifestFile)
		}
		return nil, fmt.Errorf("step %s of run %s: %w: nothing under s3://%s/%s at %s",
			step, run, ErrNotFound, s.cfg.Bucket, s.prefix(path.Join(run, step)), s.cfg.Endpoint)
	}
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("step %s of run %s: %w", step, run, err)
	}
	return m, nil
}

func (s *Store) readAll(ctx context.Context, key string) ([]byte, error) {
	body, _, _, err := s.core.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.wrap("read", key, err)
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, s.wrap("read", key, err)
	}
	return data, nil
}

// OpenFile opens one file of a step (its report, log, metrics) for
// reading; ErrNotFound when there is none.
func (s *Store) OpenFile(ctx context.Context, run, step, file string) (io.ReadCloser, error) {
	if err := checkNames("run", run, "step", step, "file", file); err != nil {
		return nil, err
	}
	key := s.Key(run, step, file)
	body, _, _, err := s.core.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.wrap("read", key, err)
	}
	return body, nil
}

// GetStep downloads the named values of a step of a run (all of them when
// names is empty) into dir, then the step's manifest: the layout the step
// runtime loads from. A value whose file is already in dir with the size
// the manifest says, under an identical manifest, is not downloaded
// again. Downloads go to temporary files, are checked against the
// manifest's size and SHA-256, and are renamed into place; one broken off
// midway is resumed from where it stopped (see Store.Resumes).
func (s *Store) GetStep(ctx context.Context, run, step, dir string, names []string, opts TransferOptions) (*Manifest, error) {
	m, err := s.Manifest(ctx, run, step)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		names = m.Names()
	}
	var missing []string
	files := map[string]Value{}
	fileOf := map[string]string{} // a file -> a value it holds
	for _, n := range names {
		v, ok := m.Values[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		files[v.File] = v
		fileOf[v.File] = n
	}
	if len(missing) > 0 {
		saved := strings.Join(m.Names(), ", ")
		if saved == "" {
			saved = "nothing"
		}
		return nil, fmt.Errorf("step %s of run %s: %w: it saved no %s (it saved: %s)", step, run, ErrNotFound, strings.Join(missing, ", "), saved)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	same := false
	if old, err := os.ReadFile(filepath.Join(dir, ManifestFile)); err == nil && bytes.Equal(old, m.Raw) {
		same = true
	} else if err == nil {
		// A different manifest would describe the files about to be
		// replaced: a reader must not find it meanwhile.
		if err := os.Remove(filepath.Join(dir, ManifestFile)); err != nil {
			return nil, err
		}
	}
	var todo []string
	for f, v := range files {
		if fi, err := os.Stat(filepath.Join(dir, f)); same && err == nil && fi.Mode().IsRegular() && fi.Size() == v.Size {
			continue
		}
		todo = append(todo, f)
	}
	sort.Strings(todo)
	if err := s.each(ctx, todo, func(ctx context.Context, f string) error {
		v := files[f]
		err := s.download(ctx, s.Key(run, step, f), filepath.Join(dir, f), v.Size, v.Checksum, opts)
		if errors.Is(err, ErrNotFound) {
			// A step run on Argo in artifacts mode: its values are
			// artifacts named after them (pipelinegen.ArtifactFile).
			err = s.download(ctx, s.Key(run, step, fileOf[f]+ArtifactSuffix), filepath.Join(dir, f), v.Size, v.Checksum, opts)
		}
		return err
	}); err != nil {
		return nil, fmt.Errorf("download step %s of run %s: %w", step, run, err)
	}
	if !same {
		if err := atomicfile.Write(filepath.Join(dir, ManifestFile), m.Raw, 0o644); err != nil {
			return nil, fmt.Errorf("download step %s of run %s: %w", step, run, err)
		}
	}
	return m, nil
}

// Steps returns the steps of a run that the store holds whole (a
// manifest), sorted.
func (s *Store) Steps(ctx context.Context, run string) ([]string, error) {
	if err := checkNames("run", run); err != nil {
		return nil, err
	}
	var steps []string
	for o := range s.core.Client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.prefix(run), Recursive: true}) {
		if o.Err != nil {
			return nil, s.wrap("list", s.prefix(run), o.Err)
		}
		rest := strings.TrimPrefix(o.Key, s.prefix(run))
		if step, file, ok := strings.Cut(rest, "/"); ok && file == ManifestFile {
			steps = append(steps, step)
		}
	}
	sort.Strings(steps)
	return steps, nil
}

// Runs returns the runs the store has anything of, sorted.
func (s *Store) Runs(ctx context.Context) ([]string, error) {
	var runs []string
	for o := range s.core.Client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.prefix("")}) {
		if o.Err != nil {
			return nil, s.wrap("list", s.prefix(""), o.Err)
		}
		if name := strings.TrimSuffix(strings.TrimPrefix(o.Key, s.prefix("")), "/"); strings.HasSuffix(o.Key, "/") && name != "" {
			runs = append(runs, name)
		}
	}
	sort.Strings(runs)
	return runs, nil
}

// DeleteRun removes every object of a run but those of the steps in keep
// (steps whose outputs other runs still read): its steps' manifests
// first, so that a delete broken off midway leaves no step that looks
// whole with values missing (a reader finds it incomplete, and a cache
// does not reuse it).
func (s *Store) DeleteRun(ctx context.Context, run string, keep ...string) error {
	if err := checkNames("run", run); err != nil {
		return err
	}
	kept := map[string]bool{}
	for _, k := range keep {
		kept[k] = true
	}
	gone := func(rest string) bool {
		step, _, _ := strings.Cut(rest, "/")
		return !kept[step]
	}
	manifests := func(rest string) bool { return gone(rest) && path.Base(rest) == ManifestFile }
	if err := s.removeWhere(ctx, s.prefix(run), manifests); err != nil {
		return fmt.Errorf("delete run %s: %w", run, err)
	}
	if err := s.removeWhere(ctx, s.prefix(run), gone); err != nil {
		return fmt.Errorf("delete run %s: %w", run, err)
	}
	return nil
}

// DeleteStep removes every object of a step of a run, its manifest first.
func (s *Store) DeleteStep(ctx context.Context, run, step string) error {
	if err := checkNames("run", run, "step", step); err != nil {
		return err
	}
	prefix := s.prefix(path.Join(run, step))
	if err := s.removeWhere(ctx, prefix, func(rest string) bool { return rest == ManifestFile }); err != nil {
		return fmt.Errorf("delete step %s of run %s: %w", step, run, err)
	}
	if err := s.removeWhere(ctx, prefix, func(string) bool { return true }); err != nil {
		return fmt.Errorf("delete step %s of run %s: %w", step, run, err)
	}
	return nil
}
