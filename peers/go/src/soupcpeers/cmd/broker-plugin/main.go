// broker-plugin: a go-plugin 1.0.1 plugin serving callback.Calculator with
// brokered callbacks both ways (see soupcpeers/brokerplugin).
package main

import (
	plugin "github.com/hashicorp/go-plugin"

	"soupcpeers/brokerplugin"
)

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: brokerplugin.Handshake,
		Plugins:         map[string]plugin.Plugin{"calc": &brokerplugin.Plugin{}},
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}
