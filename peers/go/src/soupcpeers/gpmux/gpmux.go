// Package gpmux is an independent Go implementation of go-plugin >= 1.6's
// gRPC multiplexing (PLUGIN_MULTIPLEX_GRPC), written for soup-c's interop
// tests from the protocol as go-plugin's internal/grpcmux and
// grpc_broker.go use it (Debian's go-plugin is 1.0.1, which predates it):
//
//   - the host makes one connection to the plugin's address and runs a
//     yamux client session on it (Debian's hashicorp/yamux); the plugin a
//     yamux server session;
//   - every gRPC connection is a yamux stream: the host's main connection,
//     and each brokered one;
//   - brokered connections are announced by knocks on
//     plugin.GRPCBroker/StartStream: the dialer sends ConnInfo{service_id,
//     knock{knock:true}}, the server side answers knock{knock:true,
//     ack:true[, error]}, and the dialer's next stream belongs to that id.
//     No ConnInfo with an address is sent.
//
// Streams nobody knocked for go to the default listener (the plugin's main
// gRPC server); the host has none and closes them.
package gpmux

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	pb "soupcpeers/goplugin"
)

// KnockTimeout is go-plugin's wait for a knock's ack.
const KnockTimeout = 5 * time.Second

// Listener hands out the streams routed to it.
type Listener struct {
	ch     chan net.Conn
	done   chan struct{}
	once   sync.Once
	addr   net.Addr
	onStop func()
}

func newListener(addr net.Addr, onStop func()) *Listener {
	return &Listener{ch: make(chan net.Conn, 16), done: make(chan struct{}), addr: addr, onStop: onStop}
}

// Accept implements net.Listener.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, errors.New("listener closed")
	}
}

// Close implements net.Listener.
func (l *Listener) Close() error {
	l.once.Do(func() {
		close(l.done)
		if l.onStop != nil {
			l.onStop()
		}
	})
	return nil
}

// Addr implements net.Listener.
func (l *Listener) Addr() net.Addr { return l.addr }

// Mux routes a session's inbound streams and runs the broker's knocks.
type Mux struct {
	Session *yamux.Session
	TLS     *tls.Config // brokered connections' TLS (nil: plaintext)
	Default *Listener   // nil on the host

	mu        sync.Mutex
	send      func(*pb.ConnInfo) error
	sendReady chan struct{} // closed once send is set
	served    map[uint32]*Listener
	heldKnock map[uint32]time.Time
	acked     []uint32 // ids whose next stream is theirs, oldest first
	acks      map[uint32]chan *pb.ConnInfo
	dialMu    sync.Mutex
	nextID    uint32
}

// New wraps a yamux session. withDefault: the plugin's main listener.
func New(sess *yamux.Session, tlsConf *tls.Config, withDefault bool) *Mux {
	m := &Mux{Session: sess, TLS: tlsConf, served: map[uint32]*Listener{},
		heldKnock: map[uint32]time.Time{}, acks: map[uint32]chan *pb.ConnInfo{},
		sendReady: make(chan struct{})}
	if withDefault {
		m.Default = newListener(sess.Addr(), nil)
	}
	go m.route()
	return m
}

func (m *Mux) route() {
	for {
		c, err := m.Session.Accept()
		if err != nil {
			if m.Default != nil {
				m.Default.Close()
			}
			return
		}
		m.mu.Lock()
		var target *Listener
		if len(m.acked) > 0 {
			target = m.served[m.acked[0]]
			m.acked = m.acked[1:]
		} else {
			target = m.Default
		}
		m.mu.Unlock()
		if target == nil {
			c.Close()
			continue
		}
		target.ch <- c
	}
}

// SetSender is how knocks and acks reach the peer (the StartStream).
func (m *Mux) SetSender(f func(*pb.ConnInfo) error) {
	m.mu.Lock()
	first := m.send == nil
	m.send = f
	m.mu.Unlock()
	if first {
		close(m.sendReady)
	}
}

// sendMsg waits for the broker stream (like go-plugin's Send, which blocks
// until StartStream runs), at most KnockTimeout.
func (m *Mux) sendMsg(ci *pb.ConnInfo) error {
	select {
	case <-m.sendReady:
	case <-time.After(KnockTimeout):
		return errors.New("broker stream not started")
	}
	m.mu.Lock()
	f := m.send
	m.mu.Unlock()
	return f(ci)
}

// NextID is go-plugin's NextId.
func (m *Mux) NextID() uint32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextID++
	return m.nextID
}

// Received handles one ConnInfo from the broker stream.
func (m *Mux) Received(ci *pb.ConnInfo) {
	k := ci.GetKnock()
	if k == nil {
		return // an address ConnInfo: not used when multiplexing
	}
	if k.Knock && !k.Ack {
		m.mu.Lock()
		_, ok := m.served[ci.ServiceId]
		if !ok {
			m.heldKnock[ci.ServiceId] = time.Now()
		} else {
			m.acked = append(m.acked, ci.ServiceId)
		}
		m.mu.Unlock()
		if ok {
			_ = m.sendMsg(&pb.ConnInfo{ServiceId: ci.ServiceId, Knock: &pb.ConnInfo_Knock{Knock: true, Ack: true}})
		}
		return
	}
	m.mu.Lock()
	ch := m.acks[ci.ServiceId]
	m.mu.Unlock()
	if ch != nil {
		select {
		case ch <- ci:
		default:
		}
	}
}

// Accept serves id: its streams arrive after the peer's knock.
func (m *Mux) Accept(id uint32) *Listener {
	l := newListener(m.Session.Addr(), func() {
		m.mu.Lock()
		delete(m.served, id)
		m.mu.Unlock()
	})
	m.mu.Lock()
	m.served[id] = l
	t, held := m.heldKnock[id]
	delete(m.heldKnock, id)
	if held && time.Since(t) < KnockTimeout {
		m.acked = append(m.acked, id)
	}
	m.mu.Unlock()
	if held {
		_ = m.sendMsg(&pb.ConnInfo{ServiceId: id, Knock: &pb.ConnInfo_Knock{Knock: true, Ack: true}})
	}
	return l
}

// AcceptAndServe serves the services register adds on id.
func (m *Mux) AcceptAndServe(id uint32, register func(*grpc.Server)) *grpc.Server {
	var opts []grpc.ServerOption
	if m.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(m.TLS)))
	}
	s := grpc.NewServer(opts...)
	register(s)
	go s.Serve(m.Accept(id))
	return s
}

// knock sends a knock for id and waits for its ack.
func (m *Mux) knock(id uint32) error {
	ch := make(chan *pb.ConnInfo, 1)
	m.mu.Lock()
	m.acks[id] = ch
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.acks, id)
		m.mu.Unlock()
	}()
	if err := m.sendMsg(&pb.ConnInfo{ServiceId: id, Knock: &pb.ConnInfo_Knock{Knock: true}}); err != nil {
		return err
	}
	select {
	case ci := <-ch:
		if k := ci.GetKnock(); k == nil || !k.Knock || !k.Ack {
			return fmt.Errorf("handshake failed for multiplexing on id %d: %v", id, ci.Knock)
		} else if k.Error != "" {
			return fmt.Errorf("failed to knock for id %d: %s", id, k.Error)
		}
		return nil
	case <-time.After(KnockTimeout):
		return fmt.Errorf("timeout waiting for multiplexing knock handshake on id %d", id)
	}
}

// Dial is go-plugin's broker Dial when multiplexing: knock, wait for the
// ack, open the stream (one at a time, so the peer gives the stream to the
// id it acked), then gRPC over it.
func (m *Mux) Dial(id uint32) (*grpc.ClientConn, error) {
	m.dialMu.Lock()
	err := m.knock(id)
	var st net.Conn
	if err == nil {
		st, err = m.Session.Open()
	}
	m.dialMu.Unlock()
	if err != nil {
		return nil, err
	}
	var once sync.Once
	dialer := func(ctx context.Context, _ string) (net.Conn, error) {
		var c net.Conn
		once.Do(func() { c = st })
		if c == nil {
			return nil, errors.New("brokered stream already used")
		}
		return c, nil
	}
	return DialConn(dialer, m.TLS)
}

// DialConn is a blocking grpc.ClientConn over dialer.
func DialConn(dialer func(context.Context, string) (net.Conn, error), tlsConf *tls.Config) (*grpc.ClientConn, error) {
	opts := []grpc.DialOption{grpc.WithContextDialer(dialer), grpc.WithBlock()}
	if tlsConf != nil {
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(tlsConf)))
	} else {
		opts = append(opts, grpc.WithInsecure())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return grpc.DialContext(ctx, "passthrough:///mux", opts...)
}

// GenerateCert makes a self-signed ECDSA P-521 certificate for localhost,
// its own CA, for client and server use (what go-plugin's AutoMTLS makes).
func GenerateCert() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	sn, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"HashiCorp"}},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-30 * time.Second),
		NotAfter:              time.Now().Add(262980 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}
