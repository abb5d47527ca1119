// reflect-client: an independent gRPC reflection client for soup-c's tests.
// It speaks grpc.reflection.v1alpha with grpc-go's own generated client
// (Debian's golang-google-grpc-dev) and grpc.reflection.v1 with the same
// messages on the v1 method path (the two packages are wire-identical; grpc-go
// 1.33 ships no v1 stubs). Every descriptor it receives is checked by
// building a registry with google.golang.org/protobuf's protodesc, which
// rejects a file set whose imports or types do not resolve.
//
// Usage: reflect-client --address ADDR [--api v1|v1alpha]
//
//	[--cert-file F --key-file F] [--file NAME]...
//
// ADDR: host:port, unix:PATH or a go-plugin handshake line (its cert, if
// any, is pinned as the only root, ServerName "localhost").
// Output, one JSON object on stdout:
//
//	{"services":[...], "described":{"svc":{"file":F,"methods":[...]}},
//	 "files":{"kv.proto":["proto.KV", ...]},
//	 "unknown_symbol":{"code":5,"message":...}, "unknown_file":{...}}
//
// Exit: 0 ok, 1 failure (on stderr), 2 usage.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	protov1 "github.com/golang/protobuf/proto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(s string) error { *f = append(*f, s); return nil }

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "reflect-client: "+format+"\n", a...)
	os.Exit(1)
}

// stream is what both API versions give us: one request, one response.
type stream interface {
	Send(*rpb.ServerReflectionRequest) error
	Recv() (*rpb.ServerReflectionResponse, error)
}

type v1Stream struct{ grpc.ClientStream }

func (s v1Stream) Send(m *rpb.ServerReflectionRequest) error { return s.SendMsg(m) }
func (s v1Stream) Recv() (*rpb.ServerReflectionResponse, error) {
	m := new(rpb.ServerReflectionResponse)
	return m, s.RecvMsg(m)
}

func ask(s stream, req *rpb.ServerReflectionRequest) *rpb.ServerReflectionResponse {
	if err := s.Send(req); err != nil && err != io.EOF {
		fail("send: %v", err)
	}
	// On io.EOF the server has ended the stream; grpc-go says to take the
	// status from Recv.
	resp, err := s.Recv()
	if err != nil {
		fail("recv: %v", err)
	}
	if resp.OriginalRequest == nil || !protov1.Equal(resp.OriginalRequest, req) {
		fail("response does not echo the request: %v", resp.OriginalRequest)
	}
	return resp
}

// registry decodes the FileDescriptorProtos of one response and resolves
// them into a protoregistry.Files.
func registry(resp *rpb.ServerReflectionResponse) (protodesc.Resolver, []string) {
	fdr := resp.GetFileDescriptorResponse()
	if fdr == nil {
		fail("expected a file_descriptor_response, got %v", resp.MessageResponse)
	}
	set := &descriptorpb.FileDescriptorSet{}
	var names []string
	for _, raw := range fdr.FileDescriptorProto {
		fd := &descriptorpb.FileDescriptorProto{}
		if err := proto.Unmarshal(raw, fd); err != nil {
			fail("file descriptor does not decode: %v", err)
		}
		set.File = append(set.File, fd)
		names = append(names, fd.GetName())
	}
	reg, err := protodesc.NewFiles(set)
	if err != nil {
		fail("descriptors do not resolve: %v", err)
	}
	return reg, names
}

type described struct {
	File    string   `json:"file"`
	Files   []string `json:"files"`
	Methods []string `json:"methods"`
}

type errInfo struct {
	Code    int32  `json:"code"`
	Message string `json:"message"`
}

func errorOf(resp *rpb.ServerReflectionResponse) *errInfo {
	e := resp.GetErrorResponse()
	if e == nil {
		return nil
	}
	return &errInfo{e.ErrorCode, e.ErrorMessage}
}

func dial(address, certFile, keyFile string) *grpc.ClientConn {
	network, addr := "tcp", address
	var pinned *x509.Certificate
	if strings.Contains(addr, "|") {
		f := strings.Split(strings.TrimSpace(addr), "|")
		if len(f) < 5 {
			fail("handshake line has %d fields", len(f))
		}
		network, addr = f[2], f[3]
		if len(f) > 5 && f[5] != "" {
			der, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(f[5], "="))
			if err != nil {
				fail("handshake cert: %v", err)
			}
			if pinned, err = x509.ParseCertificate(der); err != nil {
				fail("handshake cert: %v", err)
			}
		}
	} else if strings.HasPrefix(addr, "unix:") {
		network, addr = "unix", strings.TrimPrefix(addr, "unix:")
	}
	opts := []grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}),
		grpc.WithBlock(),
	}
	if pinned != nil {
		pool := x509.NewCertPool()
		pool.AddCert(pinned)
		cfg := &tls.Config{RootCAs: pool, ServerName: "localhost"}
		if certFile != "" {
			pair, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				fail("client cert: %v", err)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	} else {
		opts = append(opts, grpc.WithInsecure())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, "passthrough:///reflect", opts...)
	if err != nil {
		fail("dial %s: %v", address, err)
	}
	return conn
}

func main() {
	address := flag.String("address", "", "host:port, unix:PATH or a handshake line")
	api := flag.String("api", "v1alpha", "v1 or v1alpha")
	certFile := flag.String("cert-file", "", "client certificate (PEM)")
	keyFile := flag.String("key-file", "", "client key (PEM)")
	var wantFiles files
	flag.Var(&wantFiles, "file", "also fetch this file by name (repeatable)")
	flag.Parse()
	if *address == "" || (*api != "v1" && *api != "v1alpha") {
		fmt.Fprintln(os.Stderr, "usage: reflect-client --address ADDR [--api v1|v1alpha] [--cert-file F --key-file F] [--file NAME]...")
		os.Exit(2)
	}
	conn := dial(*address, *certFile, *keyFile)
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var s stream
	if *api == "v1alpha" {
		c, err := rpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
		if err != nil {
			fail("open v1alpha stream: %v", err)
		}
		s = c
	} else {
		cs, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true},
			"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo")
		if err != nil {
			fail("open v1 stream: %v", err)
		}
		s = v1Stream{cs}
	}

	out := map[string]interface{}{}
	resp := ask(s, &rpb.ServerReflectionRequest{Host: "soupc",
		MessageRequest: &rpb.ServerReflectionRequest_ListServices{ListServices: "*"}})
	if resp.ValidHost != "soupc" {
		fail("valid_host %q, want the request's host", resp.ValidHost)
	}
	ls := resp.GetListServicesResponse()
	if ls == nil {
		fail("expected list_services_response, got %v", resp.MessageResponse)
	}
	var services []string
	desc := map[string]described{}
	for _, svc := range ls.Service {
		services = append(services, svc.Name)
		r := ask(s, &rpb.ServerReflectionRequest{
			MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: svc.Name}})
		if e := errorOf(r); e != nil {
			continue // listed but not described; the test decides
		}
		reg, names := registry(r)
		d, err := reg.FindDescriptorByName(protoreflect.FullName(svc.Name))
		if err != nil {
			fail("%s is not in the files returned for it: %v", svc.Name, err)
		}
		sd, ok := d.(protoreflect.ServiceDescriptor)
		if !ok {
			fail("%s is not a service", svc.Name)
		}
		var methods []string
		for i := 0; i < sd.Methods().Len(); i++ {
			m := sd.Methods().Get(i)
			methods = append(methods, fmt.Sprintf("%s(%s)->%s", m.Name(), m.Input().FullName(), m.Output().FullName()))
		}
		desc[svc.Name] = described{File: sd.ParentFile().Path(), Files: names, Methods: methods}
	}
	out["services"] = services
	out["described"] = desc

	fileSyms := map[string][]string{}
	for _, name := range wantFiles {
		r := ask(s, &rpb.ServerReflectionRequest{
			MessageRequest: &rpb.ServerReflectionRequest_FileByFilename{FileByFilename: name}})
		if e := errorOf(r); e != nil {
			fail("file %s: error %d %s", name, e.Code, e.Message)
		}
		reg, _ := registry(r)
		fd, err := reg.FindFileByPath(name)
		if err != nil {
			fail("file %s not in its own response: %v", name, err)
		}
		var syms []string
		for i := 0; i < fd.Services().Len(); i++ {
			syms = append(syms, string(fd.Services().Get(i).FullName()))
		}
		for i := 0; i < fd.Messages().Len(); i++ {
			syms = append(syms, string(fd.Messages().Get(i).FullName()))
		}
		fileSyms[name] = syms
	}
	out["files"] = fileSyms

	// A method and a message resolve to their file too.
	r := ask(s, &rpb.ServerReflectionRequest{
		MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "grpc.health.v1.Health.Check"}})
	if e := errorOf(r); e == nil {
		_, names := registry(r)
		out["method_file"] = names
	} else {
		out["method_file"] = e
	}
	out["unknown_symbol"] = errorOf(ask(s, &rpb.ServerReflectionRequest{
		MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "no.such.Service"}}))
	out["unknown_file"] = errorOf(ask(s, &rpb.ServerReflectionRequest{
		MessageRequest: &rpb.ServerReflectionRequest_FileByFilename{FileByFilename: "no/such.proto"}}))
	out["unknown_extension"] = errorOf(ask(s, &rpb.ServerReflectionRequest{
		MessageRequest: &rpb.ServerReflectionRequest_FileContainingExtension{
			FileContainingExtension: &rpb.ExtensionRequest{ContainingType: "proto.GetRequest", ExtensionNumber: 100}}}))
	en := ask(s, &rpb.ServerReflectionRequest{
		MessageRequest: &rpb.ServerReflectionRequest_AllExtensionNumbersOfType{AllExtensionNumbersOfType: "proto.GetRequest"}})
	if n := en.GetAllExtensionNumbersResponse(); n != nil {
		out["extension_numbers"] = map[string]interface{}{"base": n.BaseTypeName, "numbers": n.ExtensionNumber}
	} else {
		out["extension_numbers"] = errorOf(en)
	}
	if cs, ok := s.(grpc.ClientStream); ok {
		_ = cs.CloseSend()
	} else if c, ok := s.(rpb.ServerReflection_ServerReflectionInfoClient); ok {
		_ = c.CloseSend()
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fail("%v", err)
	}
}
