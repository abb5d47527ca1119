// Package kvplugin is the go-plugin glue for proto.KV, as in go-plugin's
// examples/grpc (go-plugin-protocol.md §8): the handshake, the plugin set
// {"kv_grpc"} and a GRPCPlugin whose client side wraps proto.KVClient.
package kvplugin

import (
	"context"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"soupcpeers/kvstore"
	pb "soupcpeers/proto"
)

// Handshake is TofuSoup's (rpc-spec.md §7.1).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "BASIC_PLUGIN",
	MagicCookieValue: "hello",
}

// KV is the host-side view of the plugin.
type KV interface {
	Put(ctx context.Context, key string, value []byte) error
	Get(ctx context.Context, key string) ([]byte, error)
}

// GRPCPlugin implements plugin.GRPCPlugin for proto.KV.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl   kvstore.Store // server side only
	Report func(ctx context.Context, method, key string)
}

func (p *GRPCPlugin) GRPCServer(b *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterKVServer(s, &kvstore.Server{Store: p.Impl, Report: p.Report})
	return nil
}

func (p *GRPCPlugin) GRPCClient(ctx context.Context, b *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return &client{c: pb.NewKVClient(c)}, nil
}

type client struct{ c pb.KVClient }

func (c *client) Put(ctx context.Context, key string, value []byte) error {
	_, err := c.c.Put(ctx, &pb.PutRequest{Key: key, Value: value})
	return err
}

func (c *client) Get(ctx context.Context, key string) ([]byte, error) {
	r, err := c.c.Get(ctx, &pb.GetRequest{Key: key})
	if err != nil {
		return nil, err
	}
	return r.GetValue(), nil
}

// PluginMap is the plugin set both sides use.
func PluginMap(impl kvstore.Store, report func(ctx context.Context, method, key string)) map[string]plugin.Plugin {
	return map[string]plugin.Plugin{"kv_grpc": &GRPCPlugin{Impl: impl, Report: report}}
}
