// Package kvstore is the storage behind the Go reference peers: an in-memory
// map guarded by a RWMutex, or a directory with one file per key laid out like
// soup-go's (rpc-spec.md §4.2: <dir>/kv-data-<key>).
package kvstore

import (
	"context"
	"fmt"
	"io/ioutil"
	"os"
	"path/filepath"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "soupcpeers/proto"
)

// Store is what the KV service needs.
type Store interface {
	Put(key string, value []byte) error
	Get(key string) ([]byte, error)
}

// Mem is an in-memory store.
type Mem struct {
	mu sync.RWMutex
	m  map[string][]byte
}

// NewMem returns an empty in-memory store.
func NewMem() *Mem { return &Mem{m: make(map[string][]byte)} }

func (s *Mem) Put(key string, value []byte) error {
	v := make([]byte, len(value))
	copy(v, value)
	s.mu.Lock()
	s.m[key] = v
	s.mu.Unlock()
	return nil
}

func (s *Mem) Get(key string) ([]byte, error) {
	s.mu.RLock()
	v, ok := s.m[key]
	s.mu.RUnlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "key not found: %s", key)
	}
	return v, nil
}

// Dir stores each key in <dir>/kv-data-<key>, written atomically.
type Dir struct {
	dir string
	mu  sync.Mutex
}

// NewDir creates dir (0700) if needed.
func NewDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0700); err != nil {
		return nil, err
	}
	return &Dir{dir: dir}, nil
}

func validKey(key string) error {
	if key == "" || key == "." || key == ".." || len(key) > 200 {
		return status.Errorf(codes.InvalidArgument, "invalid key %q", key)
	}
	for _, c := range key {
		if c == '/' || c == '\\' || c < 0x20 {
			return status.Errorf(codes.InvalidArgument, "invalid key %q", key)
		}
	}
	return nil
}

func (s *Dir) Put(key string, value []byte) error {
	if err := validKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := ioutil.TempFile(s.dir, ".tmp-")
	if err != nil {
		return status.Errorf(codes.Internal, "put %s: %v", key, err)
	}
	_, err = f.Write(value)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(s.dir, "kv-data-"+key))
	}
	if err != nil {
		os.Remove(f.Name())
		return status.Errorf(codes.Internal, "put %s: %v", key, err)
	}
	return nil
}

func (s *Dir) Get(key string) ([]byte, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	v, err := ioutil.ReadFile(filepath.Join(s.dir, "kv-data-"+key))
	if os.IsNotExist(err) {
		return nil, status.Errorf(codes.NotFound, "key not found: %s", key)
	}
	if err != nil {
		return nil, status.Errorf(codes.Internal, "get %s: %v", key, err)
	}
	return v, nil
}

// Server adapts a Store to the generated proto.KVServer interface.
type Server struct {
	Store Store
	// Report, if set, is called before each RPC (goplugin-kv uses it to
	// record how the host connected).
	Report func(ctx context.Context, method, key string)
}

func (s *Server) Get(ctx context.Context, req *pb.GetRequest) (*pb.GetResponse, error) {
	if s.Report != nil {
		s.Report(ctx, "Get", req.GetKey())
	}
	v, err := s.Store.Get(req.GetKey())
	if err != nil {
		return nil, err
	}
	return &pb.GetResponse{Value: v}, nil
}

func (s *Server) Put(ctx context.Context, req *pb.PutRequest) (*pb.Empty, error) {
	if s.Report != nil {
		s.Report(ctx, "Put", req.GetKey())
	}
	if err := s.Store.Put(req.GetKey(), req.GetValue()); err != nil {
		return nil, err
	}
	return &pb.Empty{}, nil
}

// Describe names the backend for log lines.
func Describe(s Store) string {
	switch v := s.(type) {
	case *Dir:
		return fmt.Sprintf("dir %s", v.dir)
	default:
		return "memory"
	}
}
