// kvclient: a plain grpc-go proto.KV client, the Go peer for soup-c's
// standalone server.
//
// Usage: kvclient --address ADDR [TLS flags] put KEY VALUE | get KEY
// ADDR: host:port, unix:PATH, or a go-plugin handshake line
// ("1|1|unix|/tmp/plugin1|grpc|<base64 DER>"; the cert, if any, is pinned as
// the only root, ServerName "localhost").
// TLS flags: --tls (system roots), --ca-file F, --server-name N,
// --cert-file F --key-file F (client certificate), --insecure-skip-verify.
// Output: put prints "Key K put successfully.", get prints the value + "\n".
// Exit: 0 ok, 1 RPC failure (gRPC code on stderr), 2 usage.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"io/ioutil"
	"net"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	pb "soupcpeers/proto"
)

func fail(code int, format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "kvclient: "+format+"\n", a...)
	os.Exit(code)
}

func main() {
	address := flag.String("address", "", "host:port, unix:PATH or a handshake line")
	useTLS := flag.Bool("tls", false, "use TLS")
	caFile := flag.String("ca-file", "", "trust only this CA/cert (PEM); implies --tls")
	serverName := flag.String("server-name", "", "TLS server name to verify")
	certFile := flag.String("cert-file", "", "client certificate (PEM); implies --tls")
	keyFile := flag.String("key-file", "", "client key (PEM)")
	insecure := flag.Bool("insecure-skip-verify", false, "TLS without verifying the server (for --tls-mode auto servers); implies --tls")
	timeout := flag.Duration("timeout", 10*time.Second, "RPC deadline")
	flag.Parse()
	args := flag.Args()
	if *address == "" || len(args) == 0 ||
		!((args[0] == "put" && len(args) == 3) || (args[0] == "get" && len(args) == 2)) {
		fmt.Fprintln(os.Stderr, "usage: kvclient --address ADDR [--tls] [--ca-file F] [--server-name N] [--cert-file F --key-file F] put KEY VALUE | get KEY")
		os.Exit(2)
	}

	network, addr := "tcp", *address
	var pinned *x509.Certificate
	if strings.Contains(addr, "|") {
		f := strings.Split(strings.TrimSpace(addr), "|")
		if len(f) < 5 {
			fail(2, "handshake line has %d fields, want at least 5", len(f))
		}
		network, addr = f[2], f[3]
		if len(f) > 5 && f[5] != "" {
			der, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(f[5], "="))
			if err != nil {
				fail(1, "handshake cert: %v", err)
			}
			if pinned, err = x509.ParseCertificate(der); err != nil {
				fail(1, "handshake cert: %v", err)
			}
		}
	} else if strings.HasPrefix(addr, "unix:") {
		network, addr = "unix", strings.TrimPrefix(addr, "unix:")
	}

	opts := []grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}),
	}
	if *useTLS || *insecure || *caFile != "" || *certFile != "" || pinned != nil {
		cfg := &tls.Config{ServerName: *serverName, MinVersion: tls.VersionTLS12, InsecureSkipVerify: *insecure}
		if pinned != nil {
			cfg.RootCAs = x509.NewCertPool()
			cfg.RootCAs.AddCert(pinned)
			if cfg.ServerName == "" {
				cfg.ServerName = "localhost"
			}
		}
		if *caFile != "" {
			pemBytes, err := ioutil.ReadFile(*caFile)
			if err != nil {
				fail(1, "%v", err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pemBytes) {
				block, _ := pem.Decode(pemBytes)
				fail(1, "no certificate in %s (%v)", *caFile, block != nil)
			}
		}
		if *certFile != "" {
			c, err := tls.LoadX509KeyPair(*certFile, *keyFile)
			if err != nil {
				fail(1, "client cert: %v", err)
			}
			cfg.Certificates = []tls.Certificate{c}
		}
		if cfg.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err == nil {
				cfg.ServerName = host
			}
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	} else {
		opts = append(opts, grpc.WithInsecure())
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	// Not blocking: a TLS or connect failure then surfaces as the RPC's
	// UNAVAILABLE status with the cause in its message.
	conn, err := grpc.DialContext(ctx, "passthrough:///kv", opts...)
	if err != nil {
		fail(1, "connect %s %s: %v", network, addr, err)
	}
	defer conn.Close()
	kv := pb.NewKVClient(conn)
	switch args[0] {
	case "put":
		if _, err := kv.Put(ctx, &pb.PutRequest{Key: args[1], Value: []byte(args[2])}); err != nil {
			s := status.Convert(err)
			fail(1, "put %s: code=%s msg=%s", args[1], s.Code(), s.Message())
		}
		fmt.Printf("Key %s put successfully.\n", args[1])
	case "get":
		r, err := kv.Get(ctx, &pb.GetRequest{Key: args[1]})
		if err != nil {
			s := status.Convert(err)
			fail(1, "get %s: code=%s msg=%s", args[1], s.Code(), s.Message())
		}
		os.Stdout.Write(append(r.GetValue(), '\n'))
	}
}
