// A one-connection Go TLS peer configured as go-plugin configures AutoMTLS
// (go-plugin-protocol.md §3.2-§3.3): the peer's certificate is the whole
// root pool, client certificates are required and verified, ServerName is
// "localhost", TLS >= 1.2, and (as gRPC's credentials do) ALPN "h2".
//
//	go_peer server PORTFILE CERT KEY CA MAXVER   (MAXVER 12 or 13)
//	go_peer client PORT     CERT KEY CA MAXVER   (CERT "-" = no client cert)
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 7 {
		fmt.Fprintln(os.Stderr, "usage: go_peer server|client PORTFILE|PORT CERT KEY CA 12|13")
		os.Exit(2)
	}
	mode, where, certFile, keyFile, caFile := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5]
	var certs []tls.Certificate
	if certFile != "-" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			fmt.Println("load:", err)
			os.Exit(2)
		}
		certs = []tls.Certificate{cert}
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		fmt.Println("ca:", err)
		os.Exit(2)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		fmt.Println("ca: no certificates")
		os.Exit(2)
	}
	max := uint16(tls.VersionTLS13)
	if os.Args[6] == "12" {
		max = tls.VersionTLS12
	}
	cfg := &tls.Config{
		Certificates: certs,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		RootCAs:      pool,
		ServerName:   "localhost",
		MinVersion:   tls.VersionTLS12,
		MaxVersion:   max,
		NextProtos:   []string{"h2"},
	}
	var c *tls.Conn
	if mode == "client" {
		c, err = tls.Dial("tcp", "127.0.0.1:"+where, cfg)
		if err != nil {
			fmt.Println("handshake:", err)
			os.Exit(1)
		}
		if _, err := c.Write([]byte("ping")); err != nil {
			fmt.Println("write:", err)
			os.Exit(1)
		}
	} else {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Println("listen:", err)
			os.Exit(2)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if err := os.WriteFile(where, []byte(fmt.Sprintf("%d\n", port)), 0o600); err != nil {
			fmt.Println("portfile:", err)
			os.Exit(2)
		}
		conn, err := l.Accept()
		l.Close()
		if err != nil {
			fmt.Println("accept:", err)
			os.Exit(2)
		}
		c = tls.Server(conn, cfg)
		if err := c.Handshake(); err != nil {
			fmt.Println("handshake:", err)
			os.Exit(1)
		}
	}
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	// Go returns (n, io.EOF) when close_notify follows the data.
	if n == 0 && err != nil {
		fmt.Println("read:", err)
		os.Exit(1)
	}
	if err != nil && err != io.EOF {
		fmt.Println("read:", err)
		os.Exit(1)
	}
	if mode == "server" {
		if _, err := c.Write([]byte("pong")); err != nil {
			fmt.Println("write:", err)
			os.Exit(1)
		}
	}
	st := c.ConnectionState()
	if st.NegotiatedProtocol != "h2" {
		fmt.Println("alpn: got", st.NegotiatedProtocol)
		os.Exit(1)
	}
	fmt.Printf("Go %s ok: version=%x peer-certs=%d got=%s\n", mode, st.Version, len(st.PeerCertificates), buf[:n])
	c.Close()
}
