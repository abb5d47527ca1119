// Package brokerplugin is the go-plugin glue for proto/callback.proto: the
// plugin serves Calculator, and each side serves a callback service to the
// other through plugin.GRPCBroker (Debian's go-plugin 1.0.1), the way
// go-plugin's examples/bidirectional does.
package brokerplugin

import (
	"context"
	"fmt"
	"sync/atomic"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	cb "soupcpeers/callback"
)

// Handshake matches the other peers (BASIC_PLUGIN=hello).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "BASIC_PLUGIN",
	MagicCookieValue: "hello",
}

// Plugin implements plugin.GRPCPlugin for callback.Calculator.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (p *Plugin) GRPCServer(b *plugin.GRPCBroker, s *grpc.Server) error {
	cb.RegisterCalculatorServer(s, &calcServer{broker: b})
	return nil
}

func (p *Plugin) GRPCClient(ctx context.Context, b *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return &Client{broker: b, calc: cb.NewCalculatorClient(c)}, nil
}

// calcServer runs in the plugin.
type calcServer struct {
	broker *plugin.GRPCBroker
}

func (s *calcServer) AddViaHost(ctx context.Context, r *cb.AddRequest) (*cb.AddReply, error) {
	conn, err := s.broker.Dial(r.BrokerId)
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

func (s *calcServer) StartEcho(ctx context.Context, r *cb.StartEchoRequest) (*cb.StartEchoReply, error) {
	id := s.broker.NextId()
	go s.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		srv := grpc.NewServer(opts...)
		cb.RegisterEchoServer(srv, echoServer{})
		return srv
	})
	return &cb.StartEchoReply{BrokerId: id}, nil
}

type echoServer struct{}

func (echoServer) Echo(ctx context.Context, m *cb.EchoMessage) (*cb.EchoMessage, error) {
	return &cb.EchoMessage{Text: m.Text}, nil
}

// Client is the host's view.
type Client struct {
	broker *plugin.GRPCBroker
	calc   cb.CalculatorClient
	// SumCalls counts the plugin's calls into the host's Adder.
	SumCalls int64
}

type adderServer struct{ calls *int64 }

func (a adderServer) Sum(ctx context.Context, r *cb.SumRequest) (*cb.SumReply, error) {
	atomic.AddInt64(a.calls, 1)
	return &cb.SumReply{Sum: r.A + r.B}, nil
}

// AddViaHost serves Adder on a new broker id, as go-plugin's bidirectional
// example does, and asks the plugin to call it.
func (c *Client) AddViaHost(ctx context.Context, a, b int64) (int64, error) {
	id := c.broker.NextId()
	go c.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		srv := grpc.NewServer(opts...)
		cb.RegisterAdderServer(srv, adderServer{calls: &c.SumCalls})
		return srv
	})
	rep, err := c.calc.AddViaHost(ctx, &cb.AddRequest{BrokerId: id, A: a, B: b})
	if err != nil {
		return 0, err
	}
	return rep.Sum, nil
}

// EchoViaPlugin asks the plugin to serve Echo and dials it.
func (c *Client) EchoViaPlugin(ctx context.Context, text string) (string, error) {
	rep, err := c.calc.StartEcho(ctx, &cb.StartEchoRequest{})
	if err != nil {
		return "", err
	}
	conn, err := c.broker.Dial(rep.BrokerId)
	if err != nil {
		return "", fmt.Errorf("dial %d: %v", rep.BrokerId, err)
	}
	defer conn.Close()
	m, err := cb.NewEchoClient(conn).Echo(ctx, &cb.EchoMessage{Text: text})
	if err != nil {
		return "", err
	}
	return m.Text, nil
}
