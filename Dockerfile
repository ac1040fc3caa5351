# The sidecar image: the datainsight binary plus python3 for local runs.
# tree-sitter needs cgo, so the build stage has gcc; the binary links only
# against glibc, which the slim runtime image has.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X github.com/datainsight/datainsight/internal/app.version=${VERSION}" -o bin/datainsight ./cmd/datainsight

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/bin/datainsight /usr/local/bin/datainsight
ENV DATAINSIGHT_PYTHON=/usr/bin/python3
USER 1000:100
ENTRYPOINT ["/usr/local/bin/datainsight"]
CMD ["serve"]
