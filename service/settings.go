package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/datainsight/datainsight/internal/atomicfile"
	"github.com/datainsight/datainsight/notebook"
)

// SettingsKey is the notebook metadata key that holds the pipeline
// settings.
const SettingsKey = "datainsight"

// NotebookSettings are a notebook's pipeline settings.
type NotebookSettings struct {
	// Raw is metadata.datainsight as the notebook has it (nil when it
	// has none).
	Raw json.RawMessage
	// Settings are the settings in effect, as a run reads them (Kale's
	// kubeflow_notebook filling in where ours is silent); a setting with
	// an error is left unset.
	Settings notebook.Settings
	// Problems are the mistakes (and notes) found in the settings, each
	// naming its field.
	Problems []notebook.SettingProblem
}

// SettingsError refuses settings with errors: nothing was written.
type SettingsError struct {
	Path     string
	Problems []notebook.SettingProblem // the errors, each naming its field
}

func (e *SettingsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: the settings were not written: ", e.Path)
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", p.Field, p.Message)
	}
	return b.String()
}

// ErrChanged: the notebook changed on disk while its settings were being
// written; nothing was written.
var ErrChanged = errors.New("the notebook changed on disk meanwhile; nothing was written (try again)")

// Settings reads the pipeline settings of the notebook at path.
func (s *Service) Settings(ctx context.Context, path string) (*NotebookSettings, error) {
	nb, err := notebook.Load(ctx, path, s.cfg.MaxNotebookBytes)
	if err != nil {
		return nil, err
	}
	return settingsOf(nb.Metadata), nil
}

func settingsOf(md map[string]json.RawMessage) *NotebookSettings {
	st, problems := notebook.CheckSettings(md)
	ns := &NotebookSettings{Settings: st, Problems: problems}
	if raw, ok := md[SettingsKey]; ok {
		ns.Raw = bytes.Clone(raw)
	}
	return ns
}

// SetSettings replaces metadata.datainsight of the notebook at path with
// raw (a JSON object; JSON null removes the key). Only the bytes of that
// key change: the rest of the file (the order of keys, other metadata,
// the cells) is kept as it is. Settings with errors are refused with a
// *SettingsError naming their fields, and nothing is written; the file
// is replaced atomically.
func (s *Service) SetSettings(ctx context.Context, path string, raw json.RawMessage) (*NotebookSettings, error) {
	raw = bytes.TrimSpace(raw)
	remove := len(raw) == 0 || bytes.Equal(raw, []byte("null"))
	if !remove && !json.Valid(raw) {
		return nil, &SettingsError{Path: path, Problems: []notebook.SettingProblem{{
			Field: "metadata." + SettingsKey, Severity: notebook.Error, Code: notebook.CodeBadSetting, Message: "is not valid JSON"}}}
	}
	target := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		target = resolved
	}
	before, err := os.ReadFile(target)
	if err != nil {
		return nil, fmt.Errorf("read notebook: %w", err)
	}
	nb, err := notebook.Read(ctx, bytes.NewReader(before), path, s.cfg.MaxNotebookBytes)
	if err != nil {
		return nil, err
	}
	// Validate the metadata as it will be, before anything is written.
	md := make(map[string]json.RawMessage, len(nb.Metadata)+1)
	for k, v := range nb.Metadata {
		md[k] = v
	}
	if remove {
		delete(md, SettingsKey)
	} else {
		md[SettingsKey] = raw
	}
	after := settingsOf(md)
	var refused []notebook.SettingProblem
	for _, p := range after.Problems {
		// Kale's metadata, if any, is the notebook's own business: only
		// what is being written can be refused.
		if p.Severity == notebook.Error && (p.Field == "metadata."+SettingsKey || strings.HasPrefix(p.Field, "metadata."+SettingsKey+".") ||
			strings.HasPrefix(p.Field, "metadata."+SettingsKey+"[")) {
			refused = append(refused, p)
		}
	}
	if len(refused) > 0 {
		return nil, &SettingsError{Path: path, Problems: refused}
	}
	var value any
	if !remove {
		value = json.RawMessage(raw)
	}
	if err := nb.SetMetadata(SettingsKey, value); err != nil {
		return nil, err
	}
	out := nb.Bytes()
	if bytes.Equal(out, before) {
		return after, nil
	}
	mode := fs.FileMode(0o644)
	fi, err := os.Stat(target)
	if err != nil {
		return nil, fmt.Errorf("write notebook: %w", err)
	}
	mode = fi.Mode().Perm()
	// An editor (JupyterLab saving) may have written the file since it was
	// read: its edit must not be lost to this one.
	if now, err := os.ReadFile(target); err != nil || !bytes.Equal(now, before) {
		return nil, ErrChanged
	}
	if err := atomicfile.Write(target, out, mode); err != nil {
		return nil, fmt.Errorf("write notebook: %w", err)
	}
	s.log.Info("notebook settings written", "notebook", path)
	return after, nil
}
