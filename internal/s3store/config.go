package s3store

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// Config says which store to use and how to reach it. The credentials are
// never written out with it (json:"-"): a run's records name the store,
// and the process that reads them takes the keys from its environment.
type Config struct {
	// Endpoint is host[:port] of the S3 API, e.g. "s3.amazonaws.com" or
	// "127.0.0.1:9000".
	Endpoint string `json:"endpoint"`
	// PlainHTTP talks HTTP instead of HTTPS (a MinIO on loopback).
	PlainHTTP bool   `json:"plain_http,omitempty"`
	Region    string `json:"region,omitempty"`
	Bucket    string `json:"bucket"`
	// Prefix is where in the bucket runs go: <prefix>/<run>/<step>/<file>.
	Prefix    string `json:"prefix,omitempty"`
	AccessKey string `json:"-"`
	SecretKey string `json:"-"`
}

// Environment variables FromEnv reads: the AWS SDKs' own names, so that a
// machine already set up for S3 needs nothing more.
const (
	EnvEndpoint   = "AWS_ENDPOINT_URL"
	EnvEndpointS3 = "AWS_ENDPOINT_URL_S3"
	EnvAccessKey  = "AWS_ACCESS_KEY_ID"
	EnvSecretKey  = "AWS_SECRET_ACCESS_KEY"
	EnvRegion     = "AWS_REGION"
)

// ParseTarget reads a marshal target "s3://BUCKET[/PREFIX]" into a Config
// holding its bucket and prefix.
func ParseTarget(target string) (Config, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return Config{}, fmt.Errorf("marshal target %q: want s3://BUCKET or s3://BUCKET/PREFIX", target)
	}
	c := Config{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/")}
	if err := c.checkBucketAndPrefix(); err != nil {
		return Config{}, fmt.Errorf("marshal target %q: %w", target, err)
	}
	return c, nil
}

// Target is the inverse of ParseTarget.
func (c Config) Target() string {
	if c.Prefix == "" {
		return "s3://" + c.Bucket
	}
	return "s3://" + c.Bucket + "/" + c.Prefix
}

// FromEnv fills what c leaves unset from the environment (getenv, usually
// os.Getenv): the endpoint from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (a
// URL: http:// means plain HTTP), the keys from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, the region from AWS_REGION.
func (c Config) FromEnv(getenv func(string) string) (Config, error) {
	if c.Endpoint == "" {
		raw, from := getenv(EnvEndpointS3), EnvEndpointS3
		if raw == "" {
			raw, from = getenv(EnvEndpoint), EnvEndpoint
		}
		if raw != "" {
			host, plain, err := ParseEndpoint(raw)
			if err != nil {
				return c, fmt.Errorf("%s: %w", from, err)
			}
			c.Endpoint, c.PlainHTTP = host, plain
		}
	}
	if c.AccessKey == "" && c.SecretKey == "" {
		c.AccessKey, c.SecretKey = getenv(EnvAccessKey), getenv(EnvSecretKey)
	}
	if c.Region == "" {
		c.Region = getenv(EnvRegion)
	}
	return c, nil
}

// ParseEndpoint reads an endpoint given as a URL (http://host:port,
// https://host) or as host[:port] (HTTPS).
func ParseEndpoint(raw string) (host string, plainHTTP bool, err error) {
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		return "", false, fmt.Errorf("endpoint %q: want http://HOST[:PORT], https://HOST[:PORT] or HOST[:PORT]", raw)
	}
	switch u.Scheme {
	case "http":
		return u.Host, true, nil
	case "https":
		return u.Host, false, nil
	}
	return "", false, fmt.Errorf("endpoint %q: scheme %q is neither http nor https", raw, u.Scheme)
}

// Validate reports the first thing wrong with c, naming its field.
func (c Config) Validate() error {
	if c.Endpoint == "" {
		return fmt.Errorf("s3 store %s: no endpoint: set %s (e.g. http://127.0.0.1:9000) or the store's endpoint in the configuration", c.Target(), EnvEndpoint)
	}
	if strings.ContainsAny(c.Endpoint, "/?#@ ") {
		return fmt.Errorf("s3 store %s: endpoint %q: want HOST[:PORT]", c.Target(), c.Endpoint)
	}
	if err := c.checkBucketAndPrefix(); err != nil {
		return fmt.Errorf("s3 store at %s: %w", c.Endpoint, err)
	}
	if (c.AccessKey == "") != (c.SecretKey == "") {
		missing := EnvSecretKey
		if c.AccessKey == "" {
			missing = EnvAccessKey
		}
		return fmt.Errorf("s3 store %s at %s: an access key without a secret key or the other way round: set %s", c.Target(), c.Endpoint, missing)
	}
	return nil
}

func (c Config) checkBucketAndPrefix() error {
	if c.Bucket == "" {
		return fmt.Errorf("no bucket")
	}
	if err := s3utils.CheckValidBucketNameStrict(c.Bucket); err != nil {
		return fmt.Errorf("bucket %q: %v", c.Bucket, err)
	}
	if c.Prefix != "" {
		if strings.HasPrefix(c.Prefix, "/") || strings.HasSuffix(c.Prefix, "/") || path.Clean(c.Prefix) != c.Prefix || hasDotSegment(c.Prefix) {
			return fmt.Errorf("prefix %q: want slash-separated names without empty, \".\" or \"..\" parts", c.Prefix)
		}
	}
	return nil
}

func hasDotSegment(p string) bool {
	for _, s := range strings.Split(p, "/") {
		if s == "." || s == ".." || s == "" {
			return true
		}
	}
	return false
}
