// Package miniotest starts real MinIO servers for tests of code that talks
// to S3-compatible object storage.
//
// Each server listens on a free loopback port with a data folder and
// credentials of its own, without its web console, and stops when the test
// ends. A server can be killed and restarted on the same port and data, as
// a crashed server would be, to test what a client does mid-transfer.
//
// The server binary is built from the Go module proxy at a pinned version
// by hack/minio/build.sh, outside the clone. A missing binary skips the
// test, or fails it under DATAINSIGHT_REQUIRE_TOOLS (internal/testenv);
// under -short no server starts.
package miniotest
