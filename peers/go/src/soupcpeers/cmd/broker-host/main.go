// broker-host: a go-plugin 1.0.1 host for the GRPCBroker tests, the Go
// twin of tests/interop/go/broker/broker_host.c, with the same output:
//
//	broker-host [--no-automtls] [--bench N] -- PLUGIN [ARGS...]
//
// prints "plugin pid=.. tls=..", "add 2+3=5 (host Adder calls: 1)",
// "echo: hello broker", "kill: 0"; --bench N prints
// "summary n=N median_us=.. p90_us=.. min_us=.. max_us=..".
package main

import (
	"context"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"os/exec"
	"sort"
	"sync/atomic"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"

	"soupcpeers/brokerplugin"
)

func main() {
	noMTLS := flag.Bool("no-automtls", false, "disable AutoMTLS")
	benchN := flag.Int("bench", 0, "time N brokered round trips")
	flag.Parse()
	args := flag.Args()
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: broker-host [--no-automtls] [--bench N] -- PLUGIN [ARGS...]")
		os.Exit(2)
	}
	logger := hclog.New(&hclog.LoggerOptions{Output: ioutil.Discard, Level: hclog.Error})
	if os.Getenv("BROKER_HOST_VERBOSE") != "" {
		logger = hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Debug})
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  brokerplugin.Handshake,
		Plugins:          map[string]plugin.Plugin{"calc": &brokerplugin.Plugin{}},
		Cmd:              exec.Command(args[0], args[1:]...),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         !*noMTLS,
		Logger:           logger,
	})
	ok := run(client, *benchN, !*noMTLS)
	client.Kill()
	fmt.Println("kill: 0")
	if !ok {
		os.Exit(1)
	}
}

func run(client *plugin.Client, benchN int, autoMTLS bool) bool {
	rpc, err := client.Client()
	if err != nil {
		fmt.Fprintln(os.Stderr, "launch:", err)
		return false
	}
	raw, err := rpc.Dispense("calc")
	if err != nil {
		fmt.Fprintln(os.Stderr, "dispense:", err)
		return false
	}
	c := raw.(*brokerplugin.Client)
	tls := "no"
	if autoMTLS {
		tls = "yes"
	}
	rc := client.ReattachConfig()
	fmt.Printf("plugin pid=%d tls=%s net=%s\n", rc.Pid, tls, rc.Addr.Network())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if benchN > 0 {
		t := make([]int64, benchN)
		for i := 0; i < benchN; i++ {
			t0 := time.Now()
			s, err := c.AddViaHost(ctx, int64(i), 1)
			if err != nil || s != int64(i)+1 {
				fmt.Fprintln(os.Stderr, "AddViaHost:", err)
				return false
			}
			t[i] = time.Since(t0).Microseconds()
		}
		sort.Slice(t, func(a, b int) bool { return t[a] < t[b] })
		fmt.Printf("summary n=%d median_us=%d p90_us=%d min_us=%d max_us=%d\n",
			benchN, t[benchN/2], t[benchN*9/10], t[0], t[benchN-1])
		return true
	}
	ok := true
	s, err := c.AddViaHost(ctx, 2, 3)
	if err != nil {
		fmt.Fprintln(os.Stderr, "AddViaHost:", err)
		ok = false
	}
	fmt.Printf("add 2+3=%d (host Adder calls: %d)\n", s, atomic.LoadInt64(&c.SumCalls))
	ok = ok && s == 5 && atomic.LoadInt64(&c.SumCalls) == 1
	text, err := c.EchoViaPlugin(ctx, "hello broker")
	if err != nil {
		fmt.Fprintln(os.Stderr, "EchoViaPlugin:", err)
		return false
	}
	fmt.Printf("echo: %s\n", text)
	return ok && text == "hello broker"
}
