// goplugin-kv: the reference Go plugin. It serves proto.KV through
// hashicorp/go-plugin (plugin.Serve + plugin.DefaultGRPCServer), so cookie
// checking, version negotiation, AutoMTLS, the handshake line and the side
// services are go-plugin's own (Debian's v1.0.1).
//
// Usage: goplugin-kv [rpc kv server] [--storage-dir DIR] [--memory] [other flags ignored]
// Storage: --storage-dir, else $KV_STORAGE_DIR, else in memory.
// If $GOPLUGIN_KV_REPORT names a file, one line is appended at start
// ("start pid=.. client_cert_env=yes|no args=..") and one per RPC
// ("rpc=Put key=K tls=1.3|none client_cert=ecdsa-P-256|rsa-2048|none"), so
// tests can check how a host launched and reached the plugin.
// Positional words and unknown flags are ignored, because hosts launch a KV
// server as "<path> rpc kv server [--tls-mode M ...]" (rpc-spec.md §2.3).
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"fmt"
	"os"
	"strings"
	"sync"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"soupcpeers/kvplugin"
	"soupcpeers/kvstore"
)

func main() {
	dir := os.Getenv("KV_STORAGE_DIR")
	memory := false
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--storage-dir" && i+1 < len(args):
			dir = args[i+1]
			i++
		case strings.HasPrefix(a, "--storage-dir="):
			dir = strings.TrimPrefix(a, "--storage-dir=")
		case a == "--memory":
			memory = true
		case a == "-h" || a == "--help":
			fmt.Fprintln(os.Stderr, "usage: goplugin-kv [rpc kv server] [--storage-dir DIR | --memory]")
			os.Exit(2)
		}
	}
	var store kvstore.Store = kvstore.NewMem()
	if dir != "" && !memory {
		d, err := kvstore.NewDir(dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "goplugin-kv: storage dir: %v\n", err)
			os.Exit(1)
		}
		store = d
	}
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "goplugin-kv",
		Level:      hclog.LevelFromString(envOr("LOG_LEVEL", "info")),
		Output:     os.Stderr,
		JSONFormat: true,
	})
	logger.Debug("serving", "store", kvstore.Describe(store))
	var report func(ctx context.Context, method, key string)
	if path := os.Getenv("GOPLUGIN_KV_REPORT"); path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0600)
		if err != nil {
			fmt.Fprintf(os.Stderr, "goplugin-kv: report: %v\n", err)
			os.Exit(1)
		}
		var mu sync.Mutex
		certEnv := "no"
		if os.Getenv("PLUGIN_CLIENT_CERT") != "" {
			certEnv = "yes"
		}
		fmt.Fprintf(f, "start pid=%d client_cert_env=%s args=%q\n", os.Getpid(), certEnv, os.Args[1:])
		report = func(ctx context.Context, method, key string) {
			tlsv, cc := "none", "none"
			if p, ok := peer.FromContext(ctx); ok {
				if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok {
					tlsv = map[uint16]string{tls.VersionTLS12: "1.2", tls.VersionTLS13: "1.3"}[ti.State.Version]
					if len(ti.State.PeerCertificates) > 0 {
						cc = keyName(ti.State.PeerCertificates[0].PublicKey)
					}
				}
			}
			mu.Lock()
			fmt.Fprintf(f, "rpc=%s key=%s tls=%s client_cert=%s\n", method, key, tlsv, cc)
			mu.Unlock()
		}
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: kvplugin.Handshake,
		Plugins:         kvplugin.PluginMap(store, report),
		GRPCServer:      plugin.DefaultGRPCServer,
		Logger:          logger,
	})
}

func keyName(k interface{}) string {
	switch k := k.(type) {
	case *ecdsa.PublicKey:
		return "ecdsa-" + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("rsa-%d", k.N.BitLen())
	}
	return fmt.Sprintf("%T", k)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
