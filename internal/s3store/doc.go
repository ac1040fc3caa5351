// Package s3store keeps the step folders of runs (values, manifest,
// report, metrics, log) in S3-compatible object storage (MinIO, AWS S3,
// ...), through minio-go, in the layout of the local marshal root:
// <prefix>/<run>/<step>/<file>. The local backend moves a step's values
// through it around the step, so that a run's values can be read by a
// cluster run's steps and the other way round, and pull fetches them.
//
// A reader never sees half a step: the manifest is uploaded last and
// removed first. Downloads are checked against the manifest (size and
// SHA-256), written to temporary files and renamed into place, and
// resumed by range when the connection breaks or the server restarts.
// Errors say which bucket, endpoint, run and step, and wrap sentinels
// (ErrNoBucket, ErrAccessDenied, ...) for callers to branch on.
package s3store
