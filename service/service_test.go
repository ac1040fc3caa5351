package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/testenv"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/service"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "datainsight"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "datainsight", "config.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadConfig(t *testing.T) {
	cfg, err := service.LoadConfig(env(nil), service.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Backend != "local" || cfg.Python != "python3" || cfg.MaxNotebookBytes != notebook.DefaultMaxBytes || cfg.RunsDir != "" {
		t.Errorf("defaults: %+v", cfg)
	}

	// The file, then the environment, then the overrides.
	dir := writeConfig(t, "backend: argo\npython: /file/python\nruns_dir: /file/runs\nnamespace: file-ns\ngpu_tolerations: [\"gpu=yes:NoSchedule\"]\nmax_notebook_bytes: 1000\n")
	cfg, err = service.LoadConfig(env(map[string]string{
		"XDG_CONFIG_HOME": dir, "HOME": "/nowhere",
		"DATAINSIGHT_PYTHON": "/env/python", "DATAINSIGHT_NAMESPACE": "env-ns",
	}), service.Config{Namespace: "flag-ns"})
	if err != nil {
		t.Fatal(err)
	}
	want := service.Config{Backend: "argo", Python: "/env/python", RunsDir: "/file/runs", Namespace: "flag-ns",
		GPUTolerations: []string{"gpu=yes:NoSchedule"}, MaxNotebookBytes: 1000}
	if cfg.Backend != want.Backend || cfg.Python != want.Python || cfg.RunsDir != want.RunsDir || cfg.Namespace != want.Namespace ||
		strings.Join(cfg.GPUTolerations, ",") != "gpu=yes:NoSchedule" || cfg.MaxNotebookBytes != 1000 {
		t.Errorf("LoadConfig = %+v, want %+v", cfg, want)
	}

	// ~/.config when XDG_CONFIG_HOME is not set.
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".config"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(writeConfig(t, "python: /home/python\n"), "datainsight"), filepath.Join(home, ".config", "datainsight")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".config", "datainsight", "config.yaml"), []byte("python: /home/python\nruns_dir: ~/runs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if cfg, err = service.LoadConfig(env(map[string]string{"HOME": home}), service.Config{}); err != nil || cfg.Python != "/home/python" || cfg.RunsDir != filepath.Join(home, "runs") {
		t.Errorf("LoadConfig with the file in ~/.config: %+v, %v", cfg, err)
	}

	for _, tc := range []struct {
		name    string
		file    string
		env     map[string]string
		want    string
		setting string
	}{
		{"unknown field", "pyhton: x\n", nil, `unknown field "pyhton"`, ""},
		{"bad backend in file", "backend: slurm\n", nil, `backend "slurm": unknown backend (local or argo)`, "backend"},
		{"bad size in env", "", map[string]string{"DATAINSIGHT_MAX_NOTEBOOK_BYTES": "lots"}, `DATAINSIGHT_MAX_NOTEBOOK_BYTES="lots": must be a positive number of bytes`, "max_notebook_bytes"},
		{"bad backend in env", "", map[string]string{"DATAINSIGHT_BACKEND": "slurm"}, `DATAINSIGHT_BACKEND="slurm": unknown backend (local or argo)`, "backend"},
		{"bad marshal target in file", "marshal: gs://bucket\n", nil, `marshal "gs://bucket"`, "marshal"},
		{"bad marshal target in env", "", map[string]string{"DATAINSIGHT_MARSHAL": "s3://"}, `DATAINSIGHT_MARSHAL="s3://"`, "marshal"},
		{"bad endpoint for the store", "marshal: s3://bucket\n", map[string]string{"AWS_ENDPOINT_URL": "ftp://x"}, `AWS_ENDPOINT_URL`, "marshal"},
		{"bad artifact store in file", "artifact_store: bucket\n", nil, `artifact_store "bucket"`, "artifact_store"},
		{"bad artifact store in env", "", map[string]string{"DATAINSIGHT_ARTIFACT_STORE": "s3://B_"}, `DATAINSIGHT_ARTIFACT_STORE="s3://B_"`, "artifact_store"},
		{"bad repository ref in file", "artifact_repository_ref: ':key'\n", nil, `want CONFIGMAP[:KEY]`, "artifact_repository_ref"},
		{"bad repository ref in env", "", map[string]string{"DATAINSIGHT_ARTIFACT_REPOSITORY_REF": "Repos:k"}, `config map "Repos"`, "artifact_repository_ref"},
	} {
		e := map[string]string{"XDG_CONFIG_HOME": writeConfig(t, tc.file)}
		for k, v := range tc.env {
			e[k] = v
		}
		_, err := service.LoadConfig(env(e), service.Config{})
		var ce *service.ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) || ce.Setting != tc.setting {
			t.Errorf("%s: %v, want a ConfigError for %q saying %q", tc.name, err, tc.setting, tc.want)
		}
	}
}

// The object store local runs keep their values in: from the file, the
// environment or a flag, with the endpoint and keys from the environment,
// which never go out with the configuration.
func TestLoadConfigMarshal(t *testing.T) {
	e := env(map[string]string{
		"XDG_CONFIG_HOME":  writeConfig(t, "marshal: s3://file-bucket/runs\n"),
		"AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_ACCESS_KEY_ID": "access", "AWS_SECRET_ACCESS_KEY": "secret-key",
	})
	cfg, err := service.LoadConfig(e, service.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st := cfg.Store
	if st == nil || st.Bucket != "file-bucket" || st.Prefix != "runs" || st.Endpoint != "127.0.0.1:9000" || !st.PlainHTTP ||
		st.AccessKey != "access" || st.SecretKey != "secret-key" {
		t.Fatalf("the store from the file and the environment: %+v", st)
	}
	if b, err := json.Marshal(cfg); err != nil || strings.Contains(string(b), "secret-key") || !strings.Contains(string(b), `"marshal":"s3://file-bucket/runs"`) {
		t.Errorf("the configuration as JSON: %s (%v): want the target, never the keys", b, err)
	}
	if cfg, err = service.LoadConfig(e, service.Config{Marshal: "s3://flag-bucket"}); err != nil || cfg.Store == nil || cfg.Store.Bucket != "flag-bucket" {
		t.Errorf("a flag over the file: %+v, %v", cfg.Store, err)
	}
	if cfg, err = service.LoadConfig(env(nil), service.Config{}); err != nil || cfg.Store != nil || cfg.ArtifactStoreConfig != nil {
		t.Errorf("no target: store %+v, artifact store %+v, %v", cfg.Store, cfg.ArtifactStoreConfig, err)
	}

	// The artifact repository's bucket, for Argo runs in artifacts mode.
	e = env(map[string]string{
		"DATAINSIGHT_ARTIFACT_STORE": "s3://cluster-artifacts/team", "DATAINSIGHT_ARTIFACT_REPOSITORY_REF": "artifact-repositories:minio",
		"AWS_ENDPOINT_URL": "https://s3.example.com", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s",
	})
	if cfg, err = service.LoadConfig(e, service.Config{}); err != nil {
		t.Fatal(err)
	}
	if st := cfg.ArtifactStoreConfig; st == nil || st.Bucket != "cluster-artifacts" || st.Prefix != "team" || st.Endpoint != "s3.example.com" || st.PlainHTTP || st.SecretKey != "s" {
		t.Errorf("the artifact store: %+v", st)
	}
	if ref, err := service.ParseArtifactRepositoryRef(cfg.ArtifactRepositoryRef); err != nil || ref.ConfigMap != "artifact-repositories" || ref.Key != "minio" {
		t.Errorf("the artifact repository: %+v, %v", ref, err)
	}
}

const nbJSON = `{
 "cells": [
  {"cell_type": "code", "execution_count": null, "id": "a", "metadata": {"tags": ["pipeline-parameters"]}, "outputs": [], "source": ["N = 2"]},
  {"cell_type": "code", "execution_count": null, "id": "b", "metadata": {"tags": ["block:one"]}, "outputs": [], "source": ["x = N"]},
  {"cell_type": "code", "execution_count": null, "id": "c", "metadata": {"tags": ["block:two"]}, "outputs": [], "source": ["print(x * 2)"]}
 ],
 "metadata": {}, "nbformat": 4, "nbformat_minor": 5
}`

func TestCompileSources(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nb.ipynb")
	if err := os.WriteFile(path, []byte(nbJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	svc := service.New(service.Config{}, service.Options{})
	ctx := context.Background()
	c, err := svc.Compile(ctx, service.Source{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Pipeline.Steps) != 2 || c.Ref.Dir != dir || c.Ref.ID() == "" {
		t.Errorf("Compile(path): %d steps, ref %+v", len(c.Pipeline.Steps), c.Ref)
	}
	// An unsaved body, still placed at its path; and from a stream.
	body := strings.Replace(nbJSON, `"print(x * 2)"`, `"y = x\n", "print(y)"`, 1)
	if c, err = svc.Compile(ctx, service.Source{Path: path, Body: []byte(body)}); err != nil || !strings.Contains(c.Pipeline.Steps[1].Script, "print(y)") || c.Ref.Path != path {
		t.Errorf("Compile(body): %v", err)
	}
	if c, err = svc.Compile(ctx, service.Source{Path: "-", Reader: strings.NewReader(nbJSON)}); err != nil || c.Ref.ID() != "" {
		t.Errorf("Compile(stdin): %v", err)
	}
	if _, err := svc.Compile(ctx, service.Source{}); !errors.Is(err, service.ErrNoNotebook) {
		t.Errorf("Compile of nothing: %v, want ErrNoNotebook", err)
	}
	var ce *service.CompileError
	noSteps := strings.NewReplacer(`"block:one"`, `"skip"`, `"block:two"`, `"skip"`).Replace(nbJSON)
	if _, err := svc.Compile(ctx, service.Source{Path: path, Body: []byte(noSteps)}); !errors.As(err, &ce) || !errors.Is(err, service.ErrNoSteps) || ce.Analysis == nil {
		t.Errorf("Compile with no steps: %v, want a CompileError carrying the analysis, matching ErrNoSteps", err)
	}
	if _, err := (service.New(service.Config{MaxNotebookBytes: 10}, service.Options{})).Analyze(ctx, service.Source{Path: path}); !errors.Is(err, notebook.ErrTooLarge) {
		t.Errorf("Analyze over the limit: %v, want ErrTooLarge", err)
	}
}

func TestSubmitRefusals(t *testing.T) {
	python := "/usr/bin/python3"
	if _, err := exec.LookPath(python); err != nil {
		testenv.Missing(t, "no %s: %v", python, err)
	}
	dir := t.TempDir()
	for _, name := range []string{"a.ipynb", "b.ipynb"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(nbJSON), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	svc := service.New(service.Config{Python: python, RunsDir: filepath.Join(t.TempDir(), "runs")}, service.Options{})
	ctx := context.Background()
	a, err := svc.Compile(ctx, service.Source{Path: filepath.Join(dir, "a.ipynb")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.Compile(ctx, service.Source{Path: filepath.Join(dir, "b.ipynb")})
	if err != nil {
		t.Fatal(err)
	}

	var pe *service.ParameterError
	if _, err := svc.Submit(ctx, a, service.SubmitOptions{Parameters: map[string]string{"N": "lots"}}); !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), "parameter N=lots:") {
		t.Errorf("Submit with a bad parameter: %v, want a ParameterError naming it", err)
	}
	if _, err := svc.Submit(ctx, a, service.SubmitOptions{Detach: true}); !errors.Is(err, service.ErrNoSpawner) {
		t.Errorf("Submit detached without a spawner: %v, want ErrNoSpawner", err)
	}
	var re *service.ResumeError
	if _, err := svc.Submit(ctx, a, service.SubmitOptions{ResumeFrom: "nope-12345"}); !errors.As(err, &re) || !errors.Is(err, service.ErrNotFound) || strings.Contains(err.Error(), "--") {
		t.Errorf("Submit resuming an unknown run: %v, want a ResumeError matching ErrNotFound, naming no flag", err)
	}

	r, err := svc.Submit(ctx, a, service.SubmitOptions{Parameters: map[string]string{"N": "3"}})
	if err != nil {
		t.Fatal(err)
	}
	events, err := svc.Watch(ctx, service.Place{Notebook: a.Ref}, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for range events {
	}
	if got, err := svc.Get(ctx, service.Place{Notebook: a.Ref}, r.ID); err != nil || got.Phase != cluster.Succeeded || got.Parameters["N"] != "3" {
		t.Fatalf("the run: %+v, %v", got, err)
	}
	if _, err := svc.Submit(ctx, b, service.SubmitOptions{ResumeFrom: r.ID}); !errors.As(err, &re) || !errors.Is(err, service.ErrResumeMismatch) {
		t.Errorf("Submit of b resuming a run of a: %v, want ErrResumeMismatch", err)
	}
	if _, err := svc.Retry(ctx, service.Place{Notebook: a.Ref}, r.ID, service.RerunOptions{}); !errors.Is(err, cluster.ErrNothingToDo) {
		t.Errorf("Retry of a run that succeeded: %v, want ErrNothingToDo", err)
	}
	runs, err := svc.List(ctx, service.Place{Notebook: b.Ref})
	if err != nil || len(runs) != 0 {
		t.Errorf("List of b's runs: %d, %v; want none", len(runs), err)
	}
	if err := svc.Delete(ctx, service.Place{Notebook: a.Ref}, r.ID); err != nil {
		t.Error(err)
	}
}

// TestSubmitsDoNotWaitForEachOther: the sidecar shares one Service, and a
// detached submit waits for its runner; another notebook's submit (here,
// of the same runs folder) must not queue behind it. Per-call inputs once
// went through fields of a shared backend, under a lock held that long.
func TestSubmitsDoNotWaitForEachOther(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.ipynb", "b.ipynb"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(nbJSON), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	started, release := make(chan string, 2), make(chan struct{})
	spawn := func(python, runDir string) error {
		started <- runDir
		<-release
		return errors.New("not started: this test only holds the spawn")
	}
	svc := service.New(service.Config{Python: "/usr/bin/python3", RunsDir: filepath.Join(t.TempDir(), "runs")}, service.Options{Spawn: spawn})
	ctx := context.Background()
	done := make(chan error, 2)
	for _, name := range []string{"a.ipynb", "b.ipynb"} {
		c, err := svc.Compile(ctx, service.Source{Path: filepath.Join(dir, name)})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			_, err := svc.Submit(ctx, c, service.SubmitOptions{Detach: true})
			done <- err
		}()
	}
	for i := 0; i < 2; i++ {
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			close(release)
			t.Fatalf("only %d of 2 concurrent submits reached their runner's start: one waits for the other", i)
		}
	}
	close(release)
	for i := 0; i < 2; i++ {
		if err := <-done; err == nil || !strings.Contains(err.Error(), "only holds the spawn") {
			t.Errorf("submit: %v, want the spawn's error", err)
		}
	}
}
