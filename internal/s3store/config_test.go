package s3store

import (
	"strings"
	"testing"

	"github.com/datainsight/datainsight/pipelinegen"
)

func TestParseTarget(t *testing.T) {
	for _, c := range []struct {
		in, bucket, prefix, err string
	}{
		{in: "s3://runs", bucket: "runs"},
		{in: "s3://runs/", bucket: "runs"},
		{in: "s3://runs/team/a", bucket: "runs", prefix: "team/a"},
		{in: "s3://runs/team/a/", bucket: "runs", prefix: "team/a"},
		{in: "runs", err: "want s3://BUCKET"},
		{in: "http://runs/x", err: "want s3://BUCKET"},
		{in: "s3://", err: "want s3://BUCKET"},
		{in: "s3://Runs_Bad", err: `bucket "Runs_Bad"`},
		{in: "s3://runs/a//b", err: `prefix "a//b"`},
		{in: "s3://runs/a/../b", err: `prefix "a/../b"`},
		{in: "s3://key:secret@runs", err: "want s3://BUCKET"},
	} {
		got, err := ParseTarget(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), c.in) {
				t.Errorf("ParseTarget(%q): error %v, want one with %q naming the target", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got.Bucket != c.bucket || got.Prefix != c.prefix {
			t.Errorf("ParseTarget(%q) = %+v, %v; want bucket %q prefix %q", c.in, got, err, c.bucket, c.prefix)
		}
		if back, _ := ParseTarget(got.Target()); back != got {
			t.Errorf("ParseTarget(%q).Target() = %q does not read back", c.in, got.Target())
		}
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{
		EnvEndpoint:  "http://127.0.0.1:9000",
		EnvAccessKey: "ak", EnvSecretKey: "sk", EnvRegion: "eu-1",
	}
	c, err := Config{Bucket: "b"}.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Bucket: "b", Endpoint: "127.0.0.1:9000", PlainHTTP: true, AccessKey: "ak", SecretKey: "sk", Region: "eu-1"}
	if c != want {
		t.Errorf("FromEnv = %+v, want %+v", c, want)
	}
	// The S3-specific endpoint wins; what the configuration sets is kept.
	env[EnvEndpointS3] = "s3.example.com"
	c, _ = Config{Bucket: "b", AccessKey: "mine", SecretKey: "own"}.FromEnv(func(k string) string { return env[k] })
	if c.Endpoint != "s3.example.com" || c.PlainHTTP || c.AccessKey != "mine" || c.SecretKey != "own" {
		t.Errorf("FromEnv with %s and keys configured = %+v", EnvEndpointS3, c)
	}
	env[EnvEndpointS3] = "ftp://x"
	if _, err := (Config{Bucket: "b"}).FromEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), EnvEndpointS3) {
		t.Errorf("a bad endpoint in the environment: %v, want an error naming %s", err, EnvEndpointS3)
	}
}

func TestValidate(t *testing.T) {
	ok := Config{Endpoint: "127.0.0.1:9000", Bucket: "runs", Prefix: "p", AccessKey: "a", SecretKey: "s"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate(%+v): %v", ok, err)
	}
	for _, c := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Endpoint = "" }, "no endpoint"},
		{func(c *Config) { c.Endpoint = "http://x:1" }, `endpoint "http://x:1"`},
		{func(c *Config) { c.Bucket = "" }, "no bucket"},
		{func(c *Config) { c.Bucket = "x" }, `bucket "x"`},
		{func(c *Config) { c.Prefix = "/p" }, `prefix "/p"`},
		{func(c *Config) { c.SecretKey = "" }, EnvSecretKey},
		{func(c *Config) { c.AccessKey = "" }, EnvAccessKey},
	} {
		bad := ok
		c.edit(&bad)
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want an error with %q", bad, err, c.want)
		}
	}
}

func TestParseManifest(t *testing.T) {
	for _, bad := range []string{
		`{"values": {"x": {"file": "../x.npy", "size": 1}}}`,
		`{"values": {"x": {"file": "manifest.json", "size": 1}}}`,
		`{"values": {"x": {"file": ".tmp-x", "size": 1}}}`,
		`{"values": {"x": {"file": "x.npy", "size": -1}}}`,
		`{"values": 3}`,
	} {
		if _, err := ParseManifest([]byte(bad)); err == nil {
			t.Errorf("ParseManifest(%s): no error", bad)
		}
	}
	m, err := ParseManifest([]byte(`{"version": 1, "values": {"b": {"file": "b.pkl", "size": 2}, "a": {"file": "a.npy", "size": 1}}}`))
	if err != nil || strings.Join(m.Names(), ",") != "a,b" || m.Values["a"].File != "a.npy" {
		t.Errorf("ParseManifest: %+v, %v", m, err)
	}
}

// The store reads values where the generated workflows put them.
func TestArtifactSuffixIsTheWorkflows(t *testing.T) {
	if got := pipelinegen.ArtifactFile("x"); got != "x"+ArtifactSuffix {
		t.Errorf("pipelinegen puts value x at %q, the store looks for %q", got, "x"+ArtifactSuffix)
	}
}
