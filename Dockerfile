# syntax=docker/dockerfile:1
# Build: a static binary, no cgo, trimmed paths, version stamped.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X mcp.dev/mcp/internal/version.Version=${VERSION} -X mcp.dev/mcp/internal/version.Commit=${COMMIT}" \
    -o /out/mcp ./cmd/mcp

# Run: distroless, non-root, nothing but the binary. The clone cache lives
# on a mounted volume (MCP_CACHE_DIR), so the root filesystem can be read-only.
FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/mcp /mcp
USER 65532:65532
ENV MCP_CACHE_DIR=/var/cache/mcp
EXPOSE 8080
ENTRYPOINT ["/mcp"]
CMD ["run"]
