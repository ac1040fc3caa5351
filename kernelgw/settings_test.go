package kernelgw_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datainsight/datainsight/kernelgw"
	"github.com/datainsight/datainsight/kernelgw/rpc"
)

// settingsBefore and settingsAfter surround the datainsight settings of
// settingsNotebook: keys in no sorted order, other metadata around them,
// a one-space indent, sources as one string and as lines.
const (
	settingsBefore = `{
 "metadata": {
  "zeta": {"keep": [1, 2.50, "é\u00e9"]},
  "kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"},
  "datainsight": `
	settingsOld   = `{"name": "old-name",  "parallelism": 2}`
	settingsAfter = `,
  "alpha": true
 },
 "nbformat_minor": 5,
 "cells": [
  {"cell_type": "code", "id": "a", "metadata": {"tags": ["block:one"]}, "execution_count": null, "outputs": [], "source": "x = 1\nprint(x)"},
  {"cell_type": "markdown", "id": "b", "metadata": {}, "source": ["# Title\n", "text"]}
 ],
 "nbformat": 4
}
`
)

func TestSettingsRoundTrip(t *testing.T) {
	s := start(t)
	path := filepath.Join(s.root, "settings.ipynb")
	orig := settingsBefore + settingsOld + settingsAfter
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}

	var got kernelgw.SettingsResult
	s.call(t, "settings.get", map[string]any{"path": "settings.ipynb"}, &got)
	var raw map[string]any
	if err := json.Unmarshal(got.Settings, &raw); err != nil || raw["name"] != "old-name" {
		t.Errorf("settings.get: settings %s (%v), want the notebook's", got.Settings, err)
	}
	if got.Effective.Name != "old-name" || got.Effective.Parallelism != 2 || len(got.Problems) != 0 {
		t.Errorf("settings.get: %+v, want name old-name, parallelism 2, no problems", got)
	}

	// A new object: only its bytes change.
	next := map[string]any{"name": "new-name", "timeout": "1h", "volumes": []any{map[string]any{"name": "data", "mount_path": "/data"}}}
	s.call(t, "settings.set", map[string]any{"path": "settings.ipynb", "settings": next}, &got)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.HasPrefix(text, settingsBefore) || !strings.HasSuffix(text, settingsAfter) {
		t.Fatalf("settings.set changed bytes outside metadata.datainsight:\n%s", text)
	}
	var written map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(text, settingsBefore), settingsAfter)), &written); err != nil {
		t.Fatalf("the written settings: %v\n%s", err, text)
	}
	if written["name"] != "new-name" || written["timeout"] != "1h" || written["parallelism"] != nil {
		t.Errorf("the written settings: %v, want the new ones", written)
	}
	if got.Effective.Name != "new-name" || len(got.Effective.Volumes) != 1 {
		t.Errorf("settings.set returned %+v, want the new settings", got.Effective)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("settings.set: the file's mode is %v (%v), want 0600 kept", fi.Mode(), err)
	}
	var again kernelgw.SettingsResult
	s.call(t, "settings.get", map[string]any{"path": "settings.ipynb"}, &again)
	if again.Effective.Name != "new-name" || again.Effective.Timeout.Seconds() != 3600 {
		t.Errorf("settings.get after set: %+v", again.Effective)
	}

	// Invalid settings are refused naming the field; the file is not touched.
	for _, c := range []struct {
		settings any
		field    string
	}{
		{map[string]any{"name": "x", "parallelism": -1}, "settings.parallelism"},
		{map[string]any{"volumes": []any{map[string]any{"name": "data", "mount_path": "relative/path"}}}, "settings.volumes[0].mount_path"},
		{map[string]any{"timeout": true}, "settings.timeout"},
		{[]any{1, 2}, "settings"},
	} {
		r, _ := s.post(t, "", "settings.set", map[string]any{"path": "settings.ipynb", "settings": c.settings})
		if r.Error == nil || r.Error.Code != rpc.CodeInvalidParams || !strings.Contains(r.Error.Message, c.field) ||
			!strings.Contains(string(r.Error.Data), `"field":"`+c.field+`"`) {
			t.Errorf("settings.set %v: %+v, want an invalid-params error naming %s", c.settings, r.Error, c.field)
		}
		if now, _ := os.ReadFile(path); !bytes.Equal(now, data) {
			t.Errorf("settings.set %v changed the file although it was refused:\n%s", c.settings, now)
		}
	}

	// null removes the key; setting it again puts it back.
	s.call(t, "settings.set", map[string]any{"path": "settings.ipynb", "settings": nil}, &got)
	data, _ = os.ReadFile(path)
	var nb struct {
		Metadata map[string]json.RawMessage `json:"metadata"`
		Cells    []json.RawMessage          `json:"cells"`
	}
	if err := json.Unmarshal(data, &nb); err != nil || nb.Metadata["datainsight"] != nil || len(nb.Metadata) != 3 || len(nb.Cells) != 2 ||
		string(got.Settings) != "null" {
		t.Errorf("settings.set null: %v\n%s\nresult %s", err, data, got.Settings)
	}
	s.call(t, "settings.set", map[string]any{"path": "settings.ipynb", "settings": map[string]any{"name": "back"}}, &got)
	s.call(t, "settings.get", map[string]any{"path": "settings.ipynb"}, &again)
	if again.Effective.Name != "back" || !strings.Contains(mustRead(t, path), `"x = 1\nprint(x)"`) {
		t.Errorf("settings after removing and setting again: %+v\n%s", again.Effective, mustRead(t, path))
	}

	// Paths outside the root, and notebooks that do not exist.
	for _, p := range []string{"../outside.ipynb", "missing.ipynb"} {
		r, _ := s.post(t, "", "settings.get", map[string]any{"path": p})
		if r.Error == nil || !strings.Contains(string(r.Error.Data), `"path"`) {
			t.Errorf("settings.get %s: %+v, want an error naming the field path", p, r.Error)
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
