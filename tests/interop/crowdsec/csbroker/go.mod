// Minimal module file: with it, GOPATH mode resolves the /v3 import paths
// of Debian's Go sources (sprig/v3) the way CrowdSec's own go.mod does.
module csbroker

go 1.19
