// kvref: a plain grpc-go proto.KV server with an in-memory map guarded by a
// RWMutex. It is the benchmark reference and the target of soup-c's CLI client.
//
// Usage: kvref [--listen 127.0.0.1:PORT | --listen unix:PATH] [--cert-file F --key-file F]
// Prints "Server listening on <addr>" on stdout once it accepts connections;
// SIGINT/SIGTERM stop it gracefully.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"soupcpeers/kvstore"
	pb "soupcpeers/proto"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:50051", "host:port or unix:PATH")
	certFile := flag.String("cert-file", "", "serve TLS with this certificate (PEM)")
	keyFile := flag.String("key-file", "", "private key for --cert-file (PEM)")
	maxMsg := flag.Int("max-message-size", 16<<20, "max receive/send message size in bytes")
	flag.Parse()

	network, addr := "tcp", *listen
	if strings.HasPrefix(addr, "unix:") {
		network, addr = "unix", strings.TrimPrefix(addr, "unix:")
	}
	lis, err := net.Listen(network, addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kvref: listen: %v\n", err)
		os.Exit(1)
	}
	opts := []grpc.ServerOption{grpc.MaxRecvMsgSize(*maxMsg), grpc.MaxSendMsgSize(*maxMsg)}
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kvref: %v\n", err)
			os.Exit(1)
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{
			Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})))
	}
	s := grpc.NewServer(opts...)
	pb.RegisterKVServer(s, &kvstore.Server{Store: kvstore.NewMem()})

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		s.GracefulStop()
	}()

	shown := lis.Addr().String()
	if network == "unix" {
		shown = "unix:" + shown
	}
	fmt.Printf("Server listening on %s\n", shown)
	os.Stdout.Sync()
	if err := s.Serve(lis); err != nil {
		fmt.Fprintf(os.Stderr, "kvref: serve: %v\n", err)
		os.Exit(1)
	}
}
