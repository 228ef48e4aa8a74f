# syntax=docker/dockerfile:1
# Build: a static binary, no cgo, trimmed paths, version stamped. The build
# stage runs on the builder's own platform and cross-compiles, so that
# `docker buildx build --platform linux/amd64,linux/arm64` needs no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
# The newest toolchain the module proxy serves; go1.26 has known holes.
ENV GOTOOLCHAIN=go1.27.3
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath \
    -ldflags "-s -w -X mcp.dev/mcp/internal/version.Version=${VERSION} -X mcp.dev/mcp/internal/version.Commit=${COMMIT}" \
    -o /out/mcp ./cmd/mcp

# Run: distroless, non-root, nothing but the binary. The clone cache lives
# on a mounted volume (MCP_CACHE_DIR), so the root filesystem can be
# read-only. There is no shell and no kubeconfig exec plugin (aws, gcloud,
# kubelogin) in it: build FROM this image to add one (docs/operations.md).
FROM gcr.io/distroless/static:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="mcp" \
      org.opencontainers.image.description="GitOps reconciler for fleets of Kubernetes clusters" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/mcp /mcp
USER 65532:65532
ENV MCP_CACHE_DIR=/var/cache/mcp
EXPOSE 8080
ENTRYPOINT ["/mcp"]
CMD ["run"]
