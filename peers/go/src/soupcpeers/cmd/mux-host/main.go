// mux-host: a go-plugin >= 1.6 style host with GRPCBrokerMultiplex,
// written on soupcpeers/gpmux with Debian's hashicorp/yamux and grpc-go:
// it launches the plugin with PLUGIN_MULTIPLEX_GRPC=true, requires "true"
// in the handshake's 7th field, makes one connection and carries the main
// gRPC connection and every brokered one over it. Same steps and output as
// broker-host:
//
//	mux-host [--no-automtls] [--abuse] [--bench N] -- PLUGIN [ARGS...]
//
// prints "plugin pid=.. tls=.. mux=yes", "add 2+3=5 (host Adder calls:
// 1)", "echo: hello broker", "kill: 0". --abuse first sends what the
// protocol lets one stream get wrong: a stream of garbage where the
// plugin expects HTTP/2, a knock for an id nobody serves, a stream opened
// and dropped; the calls after it must still work.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"net"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/yamux"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	cb "soupcpeers/callback"
	pb "soupcpeers/goplugin"
	"soupcpeers/gpmux"
)

var sumCalls int64

type adder struct{}

func (adder) Sum(ctx context.Context, r *cb.SumRequest) (*cb.SumReply, error) {
	atomic.AddInt64(&sumCalls, 1)
	return &cb.SumReply{Sum: r.A + r.B}, nil
}

func main() {
	noMTLS := flag.Bool("no-automtls", false, "disable AutoMTLS")
	abuse := flag.Bool("abuse", false, "misbehave on some streams first")
	benchN := flag.Int("bench", 0, "time N brokered round trips")
	flag.Parse()
	args := flag.Args()
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: mux-host [--no-automtls] [--abuse] -- PLUGIN [ARGS...]")
		os.Exit(2)
	}
	cmd := exec.Command(args[0], args[1:]...)
	env := []string{}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "PLUGIN_MULTIPLEX_GRPC=") {
			env = append(env, e)
		}
	}
	env = append(env, "BASIC_PLUGIN=hello", "PLUGIN_PROTOCOL_VERSIONS=1",
		"PLUGIN_MIN_PORT=10000", "PLUGIN_MAX_PORT=25000", "PLUGIN_MULTIPLEX_GRPC=true")
	var certPEM, keyPEM []byte
	if !*noMTLS {
		var err error
		if certPEM, keyPEM, err = gpmux.GenerateCert(); err != nil {
			fmt.Fprintln(os.Stderr, "cert:", err)
			os.Exit(1)
		}
		env = append(env, "PLUGIN_CLIENT_CERT="+string(certPEM))
	}
	cmd.Env = env
	cmd.Stderr = os.Stderr
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		os.Exit(1)
	}
	ok := run(cmd, stdout, certPEM, keyPEM, *abuse, *benchN)
	fmt.Println("kill: 0")
	if !ok {
		os.Exit(1)
	}
}

func run(cmd *exec.Cmd, stdout io.Reader, certPEM, keyPEM []byte, abuse bool, benchN int) bool {
	done := make(chan error, 1)
	defer func() {
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	r := bufio.NewReader(stdout)
	line, err := r.ReadString('\n')
	go func() { io.Copy(ioutil.Discard, r); done <- cmd.Wait() }()
	if err != nil {
		fmt.Fprintln(os.Stderr, "handshake:", err)
		return false
	}
	f := strings.Split(strings.TrimSpace(line), "|")
	if len(f) < 7 || f[6] != "true" {
		fmt.Fprintln(os.Stderr, "client requested gRPC broker multiplexing but plugin does not support the feature:", line)
		return false
	}
	conn, err := net.Dial(f[2], f[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		return false
	}
	sess, err := yamux.Client(conn, yamux.DefaultConfig())
	if err != nil {
		fmt.Fprintln(os.Stderr, "yamux:", err)
		return false
	}
	defer sess.Close()
	var tlsConf *tls.Config
	if f[5] != "" {
		der, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(f[5], "="))
		if err != nil {
			fmt.Fprintln(os.Stderr, "cert:", err)
			return false
		}
		pcert, err := x509.ParseCertificate(der)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cert:", err)
			return false
		}
		pool := x509.NewCertPool()
		pool.AddCert(pcert)
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			fmt.Fprintln(os.Stderr, "own cert:", err)
			return false
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool, ClientCAs: pool,
			ClientAuth: tls.RequireAndVerifyClientCert, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	}
	m := gpmux.New(sess, tlsConf, false)
	main, err := gpmux.DialConn(func(context.Context, string) (net.Conn, error) { return sess.Open() }, tlsConf)
	if err != nil {
		fmt.Fprintln(os.Stderr, "main connection:", err)
		return false
	}
	defer main.Close()
	tlsText := "no"
	if tlsConf != nil {
		tlsText = "yes"
	}
	fmt.Printf("plugin pid=%d tls=%s mux=yes\n", cmd.Process.Pid, tlsText)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	bs, err := pb.NewGRPCBrokerClient(main).StartStream(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "broker:", err)
		return false
	}
	var sendMu sync.Mutex
	m.SetSender(func(ci *pb.ConnInfo) error { sendMu.Lock(); defer sendMu.Unlock(); return bs.Send(ci) })
	go func() {
		for {
			ci, err := bs.Recv()
			if err != nil {
				return
			}
			m.Received(ci)
		}
	}()
	if abuse && !misbehave(ctx, sess, m, main) {
		return false
	}
	calc := cb.NewCalculatorClient(main)
	if benchN > 0 && !bench(ctx, m, calc, benchN) {
		return false
	}
	ok := true
	id := m.NextID()
	srv := m.AcceptAndServe(id, func(s *grpc.Server) { cb.RegisterAdderServer(s, adder{}) })
	defer srv.Stop()
	rep, err := calc.AddViaHost(ctx, &cb.AddRequest{BrokerId: id, A: 2, B: 3})
	var s int64
	if err != nil {
		fmt.Fprintln(os.Stderr, "AddViaHost:", err)
		ok = false
	} else {
		s = rep.Sum
	}
	fmt.Printf("add 2+3=%d (host Adder calls: %d)\n", s, atomic.LoadInt64(&sumCalls))
	ok = ok && s == 5 && atomic.LoadInt64(&sumCalls) == 1
	er, err := calc.StartEcho(ctx, &cb.StartEchoRequest{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "StartEcho:", err)
		return false
	}
	ec, err := m.Dial(er.BrokerId)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial echo:", err)
		return false
	}
	defer ec.Close()
	msg, err := cb.NewEchoClient(ec).Echo(ctx, &cb.EchoMessage{Text: "hello broker"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "Echo:", err)
		return false
	}
	fmt.Printf("echo: %s\n", msg.Text)
	ok = ok && msg.Text == "hello broker"
	if _, err := pb.NewGRPCControllerClient(main).Shutdown(ctx, &pb.Empty{}); err != nil {
		fmt.Fprintln(os.Stderr, "Shutdown:", err)
		ok = false
	}
	select {
	case err := <-done:
		done <- err
		if err != nil {
			fmt.Fprintln(os.Stderr, "plugin exit:", err)
			ok = false
		}
	case <-time.After(3 * time.Second):
		fmt.Fprintln(os.Stderr, "plugin did not exit after Shutdown")
		ok = false
	}
	return ok
}

// bench times benchN brokered round trips (serve Adder on a new id, the
// plugin dials back during AddViaHost) and prints broker-host's summary.
func bench(ctx context.Context, m *gpmux.Mux, calc cb.CalculatorClient, n int) bool {
	t := make([]int64, n)
	for i := 0; i < n; i++ {
		t0 := time.Now()
		id := m.NextID()
		srv := m.AcceptAndServe(id, func(s *grpc.Server) { cb.RegisterAdderServer(s, adder{}) })
		rep, err := calc.AddViaHost(ctx, &cb.AddRequest{BrokerId: id, A: int64(i), B: 1})
		t[i] = time.Since(t0).Microseconds()
		srv.Stop() // after the clock, as broker_host_c closes its id
		if err != nil || rep.Sum != int64(i)+1 {
			fmt.Fprintln(os.Stderr, "AddViaHost:", err)
			return false
		}
	}
	sort.Slice(t, func(a, b int) bool { return t[a] < t[b] })
	fmt.Printf("summary n=%d median_us=%d p90_us=%d min_us=%d max_us=%d\n",
		n, t[n/2], t[n*9/10], t[0], t[n-1])
	atomic.StoreInt64(&sumCalls, 0)
	return true
}

// misbehave does what one stream may get wrong; the session must live on.
func misbehave(ctx context.Context, sess *yamux.Session, m *gpmux.Mux, main *grpc.ClientConn) bool {
	// Garbage where the plugin's server expects an HTTP/2 preface.
	st, err := sess.Open()
	if err != nil {
		fmt.Fprintln(os.Stderr, "abuse open:", err)
		return false
	}
	st.Write([]byte("this is not HTTP/2\r\n\r\n" + strings.Repeat("x", 100)))
	st.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.Copy(ioutil.Discard, st) // the plugin closes it
	st.Close()
	// A stream opened and dropped at once.
	if st, err = sess.Open(); err == nil {
		st.Close()
	}
	// A knock for an id nobody serves: no ack, go-plugin's timeout text.
	if _, err := m.Dial(4242); err == nil {
		fmt.Fprintln(os.Stderr, "dial to an unknown id succeeded")
		return false
	} else {
		fmt.Printf("dial unknown id: %v\n", err)
	}
	r, err := healthpb.NewHealthClient(main).Check(ctx, &healthpb.HealthCheckRequest{Service: "plugin"})
	if err != nil || r.Status != healthpb.HealthCheckResponse_SERVING {
		fmt.Fprintln(os.Stderr, "health after abuse:", err)
		return false
	}
	fmt.Println("health after abuse: SERVING")
	return true
}
