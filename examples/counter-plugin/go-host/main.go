// go-host: counter-plugin driven by HashiCorp's own go-plugin host
// (plugin.NewClient; Debian's go-plugin 1.0.1), the way Terraform, Vault or
// Packer run their plugins: launch, handshake, AutoMTLS, Dispense, calls,
// Kill. It checks the answers and that the plugin exited by itself after
// Shutdown. Exit status 0 when all holds.
//
//	go-host PATH-TO-counter-plugin
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "counterhost/counterpb"
)

// counterPlugin is the go-plugin glue a Go host writes for a gRPC plugin.
type counterPlugin struct{ plugin.Plugin }

func (counterPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return fmt.Errorf("host only")
}

func (counterPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return pb.NewCounterClient(c), nil
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go-host: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

// logSink keeps the host's own log lines, to see how the plugin ended.
type logSink struct{ strings.Builder }

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go-host PATH-TO-counter-plugin")
		os.Exit(2)
	}
	var logs logSink
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   "COUNTER_PLUGIN",
			MagicCookieValue: "counter",
		},
		Plugins:          map[string]plugin.Plugin{"counter": counterPlugin{}},
		Cmd:              exec.Command(os.Args[1]),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Debug}),
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		fail("launch: %s", err)
	}
	raw, err := rpc.Dispense("counter")
	if err != nil {
		client.Kill()
		fail("dispense: %s", err)
	}
	counter := raw.(pb.CounterClient)
	ctx := context.Background()
	for _, delta := range []int64{2, 40} {
		if _, err := counter.Add(ctx, &pb.AddRequest{Delta: delta}); err != nil {
			client.Kill()
			fail("Add(%d): %s", delta, err)
		}
	}
	got, err := counter.Get(ctx, &pb.GetRequest{})
	if err != nil || got.Value != 42 {
		client.Kill()
		fail("Get: %v, %v; want 42", got, err)
	}
	client.Kill()
	text := logs.String()
	if !strings.Contains(text, "plugin exited") || strings.Contains(text, "plugin failed to exit gracefully") {
		fail("the plugin did not exit by itself after Shutdown:\n%s", text)
	}
	fmt.Println("go-host: counter-plugin under go-plugin 1.0.1 with AutoMTLS: Add, Add, Get = 42; clean exit")
}
