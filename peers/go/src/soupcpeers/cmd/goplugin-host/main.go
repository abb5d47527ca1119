// goplugin-host: a go-plugin host (hashicorp/go-plugin plugin.NewClient,
// Debian's v1.0.1) that launches a KV plugin, dispenses "kv_grpc" and runs
// operations on it. It is the independent Go peer for soup-c's plugin mode.
//
// Usage:
//
//	goplugin-host [flags] OP... -- PLUGIN [ARGS...]
//
// OPs, run in order in one session:
//
//	put KEY VALUE    prints "Key KEY put successfully."
//	get KEY          prints the value followed by "\n"
//	putfile KEY FILE Put with the value read from FILE
//	getfile KEY FILE Get and write the value to FILE; prints "Key KEY: N bytes written to FILE"
//	ping             Health.Check{service:"plugin"}; prints "ping ok"
//	script FILE      one OP per line ("-" = stdin); blank lines and #comments skipped
//
// Flags:
//
//	--automtls=true|false (default true), --no-automtls
//	--info           print "info pid=.. network=.. addr=.. tls=.. server_key=.. version=.." to stderr
//	--strict-exit    fail if the plugin had to be SIGKILLed after Shutdown (no exit within 2 s)
//	--bench N        time N whole sessions (launch, handshake, AutoMTLS, put, get, Kill);
//	                 prints "session I MS" per session and "summary n=.. median_ms=.. p90_ms=.. min_ms=.. max_ms=.."
//	--warmup W       untimed sessions before --bench (default 1)
//	--verbose        host log (hclog, debug) and plugin stderr to stderr
//
// Exit: 0 ok, 1 any failure (message on stderr, gRPC code included), 2 usage.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"

	"soupcpeers/kvplugin"
	pb "soupcpeers/proto"
)

type op struct {
	name string
	args []string
}

var (
	autoMTLS     = flag.Bool("automtls", true, "use go-plugin AutoMTLS")
	noAutoMTLS   = flag.Bool("no-automtls", false, "disable AutoMTLS")
	showInfo     = flag.Bool("info", false, "print plugin/connection info to stderr")
	strictExit   = flag.Bool("strict-exit", false, "fail if the plugin was force-killed on Kill")
	benchN       = flag.Int("bench", 0, "time N whole sessions")
	warmup       = flag.Int("warmup", 1, "untimed warm-up sessions before --bench")
	verbose      = flag.Bool("verbose", false, "host and plugin logs to stderr")
	rpcTimeout   = flag.Duration("timeout", 30*time.Second, "deadline of each RPC")
	startTimeout = flag.Duration("start-timeout", 30*time.Second, "handshake timeout")
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: goplugin-host [flags] OP... -- PLUGIN [ARGS...]")
	fmt.Fprintln(os.Stderr, "  OP: put KEY VALUE | putfile KEY FILE | get KEY | getfile KEY FILE | ping | script FILE")
	flag.PrintDefaults()
	os.Exit(2)
}

func parseOps(words []string) ([]op, error) {
	var ops []op
	for i := 0; i < len(words); {
		w := words[i]
		need, ok := map[string]int{"put": 2, "putfile": 2, "get": 1, "getfile": 2, "ping": 0, "script": 1}[w]
		if !ok {
			return nil, fmt.Errorf("unknown operation %q", w)
		}
		if i+1+need > len(words) {
			return nil, fmt.Errorf("%s needs %d argument(s)", w, need)
		}
		args := words[i+1 : i+1+need]
		i += 1 + need
		if w == "script" {
			sub, err := readScript(args[0])
			if err != nil {
				return nil, err
			}
			ops = append(ops, sub...)
			continue
		}
		ops = append(ops, op{w, args})
	}
	return ops, nil
}

func readScript(path string) ([]op, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	var words []string
	var ops []op
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// "put KEY VALUE...": the value is the rest of the line.
		f := strings.SplitN(line, " ", 3)
		if f[0] == "script" {
			return nil, errors.New("nested script")
		}
		words = f
		sub, err := parseOps(words)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		ops = append(ops, sub...)
	}
	return ops, sc.Err()
}

// logWatch forwards host log output (when verbose) and notices go-plugin's
// force-kill warning.
type logWatch struct {
	mu     sync.Mutex
	out    io.Writer
	killed bool
}

func (w *logWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if bytes.Contains(p, []byte("plugin failed to exit gracefully")) {
		w.killed = true
	}
	return w.out.Write(p)
}

func (w *logWatch) forced() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.killed
}

type session struct {
	client *plugin.Client
	kv     *kvclient
	watch  *logWatch
}

type kvclient struct {
	conn *grpc.ClientConn
	kv   pb.KVClient
}

// kvPlugin is the host-side plugin: it keeps the raw connection so the host
// can ask for Health and the peer's TLS state.
type kvPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (p *kvPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("host only")
}

func (p *kvPlugin) GRPCClient(ctx context.Context, b *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return &kvclient{conn: c, kv: pb.NewKVClient(c)}, nil
}

func start(argv []string) (*session, error) {
	mtls := *autoMTLS && !*noAutoMTLS
	var out io.Writer = ioutil.Discard
	if *verbose {
		out = os.Stderr
	}
	watch := &logWatch{out: out}
	logger := hclog.New(&hclog.LoggerOptions{Name: "goplugin-host", Level: hclog.Debug, Output: watch})
	var stderr io.Writer = ioutil.Discard
	if *verbose {
		stderr = os.Stderr
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  kvplugin.Handshake,
		Plugins:          map[string]plugin.Plugin{"kv_grpc": &kvPlugin{}},
		Cmd:              exec.Command(argv[0], argv[1:]...),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         mtls,
		StartTimeout:     *startTimeout,
		Logger:           logger,
		Stderr:           stderr,
	})
	rpcClient, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("plugin start: %v", err)
	}
	raw, err := rpcClient.Dispense("kv_grpc")
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("dispense kv_grpc: %v", err)
	}
	return &session{client: client, kv: raw.(*kvclient), watch: watch}, nil
}

func (s *session) run(o op, quiet bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), *rpcTimeout)
	defer cancel()
	switch o.name {
	case "put":
		if _, err := s.kv.kv.Put(ctx, &pb.PutRequest{Key: o.args[0], Value: []byte(o.args[1])}); err != nil {
			return fmt.Errorf("put %s: %v", o.args[0], err)
		}
		if !quiet {
			fmt.Printf("Key %s put successfully.\n", o.args[0])
		}
	case "putfile":
		v, err := ioutil.ReadFile(o.args[1])
		if err != nil {
			return err
		}
		if _, err := s.kv.kv.Put(ctx, &pb.PutRequest{Key: o.args[0], Value: v}); err != nil {
			return fmt.Errorf("put %s: %v", o.args[0], err)
		}
		if !quiet {
			fmt.Printf("Key %s put successfully.\n", o.args[0])
		}
	case "get", "getfile":
		r, err := s.kv.kv.Get(ctx, &pb.GetRequest{Key: o.args[0]})
		if err != nil {
			return fmt.Errorf("get %s: %v", o.args[0], err)
		}
		if o.name == "getfile" {
			if err := ioutil.WriteFile(o.args[1], r.GetValue(), 0600); err != nil {
				return err
			}
			if !quiet {
				fmt.Printf("Key %s: %d bytes written to %s\n", o.args[0], len(r.GetValue()), o.args[1])
			}
		} else if !quiet {
			os.Stdout.Write(append(r.GetValue(), '\n'))
		}
	case "ping":
		var p peer.Peer
		_, err := grpc_health_v1.NewHealthClient(s.kv.conn).Check(ctx,
			&grpc_health_v1.HealthCheckRequest{Service: "plugin"}, grpc.Peer(&p))
		if err != nil {
			return fmt.Errorf("ping: %v", err)
		}
		if !quiet {
			fmt.Println("ping ok")
		}
	}
	return nil
}

// info describes the plugin and the transport actually negotiated, by asking
// the peer for Health("plugin") and reading the TLS state of that call.
func (s *session) info() string {
	rc := s.client.ReattachConfig()
	ctx, cancel := context.WithTimeout(context.Background(), *rpcTimeout)
	defer cancel()
	var p peer.Peer
	_, herr := grpc_health_v1.NewHealthClient(s.kv.conn).Check(ctx,
		&grpc_health_v1.HealthCheckRequest{Service: "plugin"}, grpc.Peer(&p))
	tlsDesc, key := "none", "none"
	if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok {
		tlsDesc = map[uint16]string{tls.VersionTLS12: "1.2", tls.VersionTLS13: "1.3"}[ti.State.Version]
		if len(ti.State.PeerCertificates) > 0 {
			switch k := ti.State.PeerCertificates[0].PublicKey.(type) {
			case *ecdsa.PublicKey:
				key = "ecdsa-" + k.Curve.Params().Name
			case *rsa.PublicKey:
				key = fmt.Sprintf("rsa-%d", k.N.BitLen())
			default:
				key = fmt.Sprintf("%T", k)
			}
		}
	}
	health := "ok"
	if herr != nil {
		health = herr.Error()
	}
	return fmt.Sprintf("info pid=%d network=%s addr=%s version=%d tls=%s server_key=%s health=%q",
		rc.Pid, rc.Addr.Network(), rc.Addr.String(), s.client.NegotiatedVersion(), tlsDesc, key, health)
}

func (s *session) kill() error {
	s.client.Kill()
	if s.watch.forced() {
		return errors.New("plugin did not exit within 2 s of Shutdown and was killed")
	}
	return nil
}

func main() {
	flag.Usage = usage
	// Split at the first "--" ourselves: everything after it is the plugin's
	// argv, everything before it is flags and operations.
	all := os.Args[1:]
	sep := -1
	for i, w := range all {
		if w == "--" {
			sep = i
			break
		}
	}
	if sep < 0 || sep == len(all)-1 {
		usage()
	}
	argv := all[sep+1:]
	if err := flag.CommandLine.Parse(all[:sep]); err != nil {
		os.Exit(2)
	}
	words := flag.Args()
	sep = len(words)
	ops, err := parseOps(words[:sep])
	if err != nil {
		fmt.Fprintf(os.Stderr, "goplugin-host: %v\n", err)
		os.Exit(2)
	}
	if *benchN > 0 {
		os.Exit(bench(argv))
	}
	s, err := start(argv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "goplugin-host: %v\n", err)
		os.Exit(1)
	}
	if *showInfo {
		fmt.Fprintln(os.Stderr, s.info())
	}
	rc := 0
	for _, o := range ops {
		if err := s.run(o, false); err != nil {
			fmt.Fprintf(os.Stderr, "goplugin-host: %v\n", err)
			rc = 1
			break
		}
	}
	if err := s.kill(); err != nil {
		fmt.Fprintf(os.Stderr, "goplugin-host: %v\n", err)
		if *strictExit {
			rc = 1
		}
	}
	os.Exit(rc)
}

// phases of one session, in milliseconds.
type phases struct{ total, start, rpc, kill float64 }

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// oneSession runs launch + handshake (+ AutoMTLS) + Dispense ("start"), one
// Put and one Get ("rpc"; grpc.Dial is lazy, so the TLS handshake lands
// here) and Kill ("kill": Shutdown, wait for exit).
func oneSession(argv []string) (phases, error) {
	var ph phases
	t0 := time.Now()
	s, err := start(argv)
	if err != nil {
		return ph, err
	}
	ph.start = msSince(t0)
	t1 := time.Now()
	val := fmt.Sprintf("bench-value-%d", t0.UnixNano())
	err = s.run(op{"put", []string{"bench-key", val}}, true)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), *rpcTimeout)
		r, gerr := s.kv.kv.Get(ctx, &pb.GetRequest{Key: "bench-key"})
		cancel()
		if gerr != nil {
			err = gerr
		} else if string(r.GetValue()) != val {
			err = fmt.Errorf("get returned %q, want %q", r.GetValue(), val)
		}
	}
	ph.rpc = msSince(t1)
	t2 := time.Now()
	kerr := s.kill()
	ph.kill = msSince(t2)
	ph.total = msSince(t0)
	if err == nil && *strictExit {
		err = kerr
	}
	return ph, err
}

func bench(argv []string) int {
	for i := 0; i < *warmup; i++ {
		if _, err := oneSession(argv); err != nil {
			fmt.Fprintf(os.Stderr, "goplugin-host: warm-up session: %v\n", err)
			return 1
		}
	}
	var total, st, rpc, kill []float64
	for i := 0; i < *benchN; i++ {
		ph, err := oneSession(argv)
		if err != nil {
			fmt.Fprintf(os.Stderr, "goplugin-host: session %d: %v\n", i, err)
			return 1
		}
		total, st, rpc, kill = append(total, ph.total), append(st, ph.start), append(rpc, ph.rpc), append(kill, ph.kill)
		fmt.Printf("session %d %.3f start=%.3f rpc=%.3f kill=%.3f\n", i, ph.total, ph.start, ph.rpc, ph.kill)
	}
	for _, xs := range [][]float64{total, st, rpc, kill} {
		sort.Float64s(xs)
	}
	fmt.Printf("summary n=%d median_ms=%.3f p90_ms=%.3f min_ms=%.3f max_ms=%.3f start_median_ms=%.3f rpc_median_ms=%.3f kill_median_ms=%.3f\n",
		len(total), quantile(total, 0.5), quantile(total, 0.9), total[0], total[len(total)-1],
		quantile(st, 0.5), quantile(rpc, 0.5), quantile(kill, 0.5))
	return 0
}

// quantile of sorted xs by linear interpolation.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 1 {
		return xs[0]
	}
	pos := q * float64(len(xs)-1)
	lo := int(pos)
	if lo+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[lo] + (pos-float64(lo))*(xs[lo+1]-xs[lo])
}
