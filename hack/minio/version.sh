# Pinned MinIO server version, sourced by build.sh. internal/miniotest
# computes the same cache path from the same pin: change both together.
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
MINIO_DIR="${DATAINSIGHT_CACHE:-$HOME/.cache/datainsight}/minio-${MINIO_VERSION}"
