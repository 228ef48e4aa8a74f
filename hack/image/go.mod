// Module image builds container images without a Docker engine (make
// image-tar, and the images of the test bed's node). It is separate from
// mcp's own module so that mcp does not depend on go-containerregistry.
module mcp.dev/hack/image

go 1.27.3

require github.com/google/go-containerregistry v0.22.1

require (
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
	golang.org/x/sync v0.22.0 // indirect
)
