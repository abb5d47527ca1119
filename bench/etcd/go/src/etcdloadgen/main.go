// etcdloadgen: the load generator of bench/etcd_bench.py. N goroutines do
// durable Puts (then Gets of the keys written) for a fixed time through one
// client connection, against either
//
//	-target etcd   etcd itself, through etcd's own Go client (clientv3, from
//	               Debian's golang-etcd-server-dev): Put, linearizable Get;
//	-target kv     a proto.KV server (soup-c on etcd or on LMDB), through
//	               grpc-go with the same request bytes soup-c's clients send.
//
// It prints one JSON object per phase: ops, errors, seconds, ops/s, p50 and
// p99 latency in microseconds. It measures; it never decides pass or fail.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
)

// rawCodec sends and receives already-encoded protobuf bytes.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

var _ encoding.Codec = rawCodec{}

func field(num int, b []byte) []byte {
	out := []byte{byte(num<<3 | 2)}
	n := len(b)
	for n >= 0x80 {
		out = append(out, byte(n)|0x80)
		n >>= 7
	}
	out = append(out, byte(n))
	return append(out, b...)
}

type op func(ctx context.Context, key string, val []byte) error

func kvOps(address string) (put, get op, closer func()) {
	cc, err := grpc.Dial(address, grpc.WithInsecure(), grpc.WithBlock(),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		os.Exit(1)
	}
	put = func(ctx context.Context, key string, val []byte) error {
		req := append(field(1, []byte(key)), field(2, val)...)
		var resp []byte
		return cc.Invoke(ctx, "/proto.KV/Put", &req, &resp)
	}
	get = func(ctx context.Context, key string, _ []byte) error {
		req := field(1, []byte(key))
		var resp []byte
		return cc.Invoke(ctx, "/proto.KV/Get", &req, &resp)
	}
	return put, get, func() { cc.Close() }
}

func etcdOps(endpoints, prefix string) (put, get op, closer func()) {
	c, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(endpoints, ","),
		DialTimeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcd client:", err)
		os.Exit(1)
	}
	put = func(ctx context.Context, key string, val []byte) error {
		_, err := c.Put(ctx, prefix+key, string(val))
		return err
	}
	get = func(ctx context.Context, key string, _ []byte) error {
		resp, err := c.Get(ctx, prefix+key) // linearizable (the default)
		if err == nil && len(resp.Kvs) == 0 {
			err = fmt.Errorf("key %s not found", key)
		}
		return err
	}
	return put, get, func() { c.Close() }
}

type result struct {
	Phase   string  `json:"phase"`
	Ops     int     `json:"ops"`
	Errors  int     `json:"errors"`
	Seconds float64 `json:"seconds"`
	OpsSec  float64 `json:"ops_per_sec"`
	P50us   float64 `json:"p50_us"`
	P99us   float64 `json:"p99_us"`
	FirstEr string  `json:"first_error,omitempty"`
}

// written[w] is how many distinct keys worker w has Put; Gets cycle over
// those, so every Get is of a key that exists.
var written []int

func run(phase string, fn op, workers int, d time.Duration, keysPerWorker int, val []byte) result {
	var mu sync.Mutex
	var lats []time.Duration
	errs := 0
	first := ""
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(d)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			mine := make([]time.Duration, 0, 4096)
			myErrs := 0
			myFirst := ""
			n := keysPerWorker
			if phase == "get" && written[w] < n {
				n = written[w]
			}
			if n == 0 {
				n = 1
			}
			i := 0
			for ; time.Now().Before(stop); i++ {
				key := fmt.Sprintf("w%03d/%05d", w, i%n)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				t0 := time.Now()
				err := fn(ctx, key, val)
				mine = append(mine, time.Since(t0))
				cancel()
				if err != nil {
					myErrs++
					if myFirst == "" {
						myFirst = err.Error()
					}
				}
			}
			mu.Lock()
			if phase == "put" && i < keysPerWorker {
				written[w] = i
			} else if phase == "put" {
				written[w] = keysPerWorker
			}
			lats = append(lats, mine...)
			errs += myErrs
			if first == "" {
				first = myFirst
			}
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	pct := func(p float64) float64 {
		if len(lats) == 0 {
			return 0
		}
		i := int(p * float64(len(lats)-1))
		return float64(lats[i].Microseconds())
	}
	return result{phase, len(lats), errs, secs, float64(len(lats)) / secs, pct(0.50), pct(0.99), first}
}

func main() {
	target := flag.String("target", "kv", "kv (a proto.KV server) or etcd (etcd itself, clientv3)")
	address := flag.String("address", "", "-target kv: HOST:PORT of the proto.KV server")
	endpoints := flag.String("endpoints", "", "-target etcd: comma-separated etcd client URLs")
	prefix := flag.String("prefix", "bench/etcd-direct/", "-target etcd: key prefix")
	workers := flag.Int("workers", 1, "concurrent writers (then readers)")
	seconds := flag.Float64("seconds", 3, "duration of each phase")
	valueSize := flag.Int("value-size", 256, "bytes per value")
	keys := flag.Int("keys", 100, "distinct keys per worker")
	phases := flag.String("phases", "put,get", "phases to run, in order")
	flag.Parse()

	var put, get op
	var closer func()
	switch *target {
	case "kv":
		put, get, closer = kvOps(*address)
	case "etcd":
		put, get, closer = etcdOps(*endpoints, *prefix)
	default:
		fmt.Fprintln(os.Stderr, "unknown -target", *target)
		os.Exit(2)
	}
	defer closer()
	val := make([]byte, *valueSize)
	for i := range val {
		val[i] = byte('a' + i%26)
	}
	d := time.Duration(*seconds * float64(time.Second))
	written = make([]int, *workers)
	for w := range written {
		written[w] = *keys // without a put phase, assume a previous run wrote them
	}
	enc := json.NewEncoder(os.Stdout)
	for _, ph := range strings.Split(*phases, ",") {
		fn := put
		if ph == "get" {
			fn = get
		}
		enc.Encode(run(ph, fn, *workers, d, *keys, val))
	}
}
