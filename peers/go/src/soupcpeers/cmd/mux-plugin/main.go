// mux-plugin: a go-plugin >= 1.6 style plugin that multiplexes
// (PLUGIN_MULTIPLEX_GRPC=true), written on soupcpeers/gpmux with Debian's
// hashicorp/yamux and grpc-go: callback.Calculator with brokered
// callbacks both ways, GRPCBroker, GRPCController, Health, AutoMTLS when
// PLUGIN_CLIENT_CERT is set. Without PLUGIN_MULTIPLEX_GRPC=true it
// refuses to start (it exists to test multiplexing).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io/ioutil"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	cb "soupcpeers/callback"
	pb "soupcpeers/goplugin"
	"soupcpeers/gpmux"
)

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "mux-plugin: "+format+"\n", a...)
	os.Exit(1)
}

type calc struct{ m *gpmux.Mux }

func (c calc) AddViaHost(ctx context.Context, r *cb.AddRequest) (*cb.AddReply, error) {
	conn, err := c.m.Dial(r.BrokerId)
	if err != nil {
		return nil, fmt.Errorf("broker dial %d: %v", r.BrokerId, err)
	}
	defer conn.Close()
	rep, err := cb.NewAdderClient(conn).Sum(ctx, &cb.SumRequest{A: r.A, B: r.B})
	if err != nil {
		return nil, fmt.Errorf("host's Adder: %v", err)
	}
	return &cb.AddReply{Sum: rep.Sum}, nil
}

type echo struct{}

func (echo) Echo(ctx context.Context, m *cb.EchoMessage) (*cb.EchoMessage, error) {
	return &cb.EchoMessage{Text: m.Text}, nil
}

func (c calc) StartEcho(ctx context.Context, r *cb.StartEchoRequest) (*cb.StartEchoReply, error) {
	id := c.m.NextID()
	c.m.AcceptAndServe(id, func(s *grpc.Server) { cb.RegisterEchoServer(s, echo{}) })
	return &cb.StartEchoReply{BrokerId: id}, nil
}

type broker struct{ m *gpmux.Mux }

func (b broker) StartStream(s pb.GRPCBroker_StartStreamServer) error {
	var mu sync.Mutex
	b.m.SetSender(func(ci *pb.ConnInfo) error {
		mu.Lock()
		defer mu.Unlock()
		return s.Send(ci)
	})
	for {
		ci, err := s.Recv()
		if err != nil {
			return nil
		}
		b.m.Received(ci)
	}
}

type controller struct{ stop chan struct{} }

func (c controller) Shutdown(ctx context.Context, _ *pb.Empty) (*pb.Empty, error) {
	go func() { time.Sleep(10 * time.Millisecond); close(c.stop) }()
	return &pb.Empty{}, nil
}

func main() {
	if os.Getenv("BASIC_PLUGIN") != "hello" {
		fmt.Fprintln(os.Stderr, "This binary is a plugin. These are not meant to be executed directly.")
		os.Exit(1)
	}
	if mux, _ := strconv.ParseBool(os.Getenv("PLUGIN_MULTIPLEX_GRPC")); !mux {
		fail("PLUGIN_MULTIPLEX_GRPC is not true; this test plugin only multiplexes")
	}
	dir := os.Getenv("PLUGIN_UNIX_SOCKET_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := ioutil.TempFile(dir, "plugin")
	if err != nil {
		fail("%v", err)
	}
	path := f.Name()
	f.Close()
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		fail("%v", err)
	}
	defer os.Remove(path)

	var serverTLS, dialTLS *tls.Config
	certField := ""
	if hostPEM := os.Getenv("PLUGIN_CLIENT_CERT"); hostPEM != "" {
		certPEM, keyPEM, err := gpmux.GenerateCert()
		if err != nil {
			fail("cert: %v", err)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			fail("cert: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(hostPEM)) {
			fail("PLUGIN_CLIENT_CERT does not parse")
		}
		serverTLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert,
			ClientCAs: pool, RootCAs: pool, MinVersion: tls.VersionTLS12, ServerName: "localhost"}
		dialTLS = serverTLS
		block, _ := pem.Decode(certPEM)
		certField = base64.RawStdEncoding.EncodeToString(block.Bytes)
	}
	fmt.Printf("1|1|unix|%s|grpc|%s|true\n", path, certField)
	os.Stdout.Sync()

	conn, err := ln.Accept()
	if err != nil {
		fail("accept: %v", err)
	}
	ln.Close()
	sess, err := yamux.Server(conn, yamux.DefaultConfig())
	if err != nil {
		fail("yamux: %v", err)
	}
	m := gpmux.New(sess, dialTLS, true)
	var opts []grpc.ServerOption
	if serverTLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(serverTLS)))
	}
	srv := grpc.NewServer(opts...)
	stop := make(chan struct{})
	cb.RegisterCalculatorServer(srv, calc{m})
	pb.RegisterGRPCBrokerServer(srv, broker{m})
	pb.RegisterGRPCControllerServer(srv, controller{stop})
	hs := health.NewServer()
	hs.SetServingStatus("plugin", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go srv.Serve(m.Default)
	select {
	case <-stop:
	case <-sess.CloseChan():
	}
	srv.Stop()
	sess.Close()
}
