package kubestack

import (
	"path/filepath"
	"testing"
	"time"
)

func TestExperimentParse(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(argoModDir(goModCache()), "manifests/base/crds/full/argoproj*.yaml"))
	start := time.Now()
	for _, f := range files {
		s := time.Now()
		objs, err := readManifests(f)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := objs[0].MarshalJSON()
		t.Logf("%s: %v, %d bytes JSON", filepath.Base(f), time.Since(s), len(b))
	}
	t.Logf("total %v", time.Since(start))
}
