package harness

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/mail"
	"strconv"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Mail is one message the mailbox received.
type Mail struct {
	From     string
	To       []string
	Data     []byte
	Subject  string
	Header   mail.Header
	Received time.Time
}

// Mailbox is a real SMTP server on loopback that keeps what it receives, so
// the demo and the tests see the email notifications as a user would. It can
// be stopped and started again on the same port to play a mail outage.
type Mailbox struct {
	addr string
	mu   sync.Mutex
	srv  *smtp.Server
	msgs []Mail
	wake chan struct{}
}

// StartMailbox listens on a free loopback port.
func StartMailbox() (*Mailbox, error) {
	m := &Mailbox{addr: "127.0.0.1:0", wake: make(chan struct{})}
	if err := m.Start(); err != nil {
		return nil, err
	}
	return m, nil
}

// Start (again) accepts connections on the mailbox's port.
func (m *Mailbox) Start() error {
	ln, err := net.Listen("tcp", m.addr)
	if err != nil {
		return fmt.Errorf("mailbox: %w", err)
	}
	srv := smtp.NewServer(backend{m})
	srv.Domain = "mailbox.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	m.mu.Lock()
	m.addr, m.srv = ln.Addr().String(), srv
	m.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// Stop closes the server: connections are refused until Start.
func (m *Mailbox) Stop() error {
	m.mu.Lock()
	srv := m.srv
	m.srv = nil
	m.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// HostPort is where the mailbox listens.
func (m *Mailbox) HostPort() (string, int) {
	host, port, _ := net.SplitHostPort(m.addr)
	p, _ := strconv.Atoi(port)
	return host, p
}

// Messages returns what was received so far.
func (m *Mailbox) Messages() []Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Mail(nil), m.msgs...)
}

// Wait returns once at least n messages have arrived, or fails after timeout.
func (m *Mailbox) Wait(n int, timeout time.Duration) ([]Mail, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		m.mu.Lock()
		if len(m.msgs) >= n {
			out := append([]Mail(nil), m.msgs...)
			m.mu.Unlock()
			return out, nil
		}
		wake := m.wake
		m.mu.Unlock()
		select {
		case <-wake:
		case <-deadline.C:
			return m.Messages(), fmt.Errorf("mailbox: %d of %d messages after %s", len(m.Messages()), n, timeout)
		}
	}
}

func (m *Mailbox) add(msg Mail) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	close(m.wake)
	m.wake = make(chan struct{})
}

type backend struct{ m *Mailbox }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{m: b.m}, nil }

type session struct {
	m   *Mailbox
	cur Mail
}

func (s *session) Reset()        { s.cur = Mail{} }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.cur.From = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(r, 10<<20))
	if err != nil {
		return err
	}
	if len(s.cur.To) == 0 {
		return errors.New("no recipients")
	}
	s.cur.Data, s.cur.Received = data, time.Now()
	if msg, err := mail.ReadMessage(bytes.NewReader(data)); err == nil {
		s.cur.Header = msg.Header
		dec := new(mime.WordDecoder)
		if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
			s.cur.Subject = subj
		}
	}
	s.m.add(s.cur)
	return nil
}
