// Package secret encrypts secrets at rest (Autotask API secrets, integration keys)
// and makes and hashes the random tokens that authenticate callers.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// MinKeyLength is the shortest TICKETPAGER_SECRET_KEY accepted.
const MinKeyLength = 32

// ErrDecrypt means a ciphertext was tampered with or made under another key.
var ErrDecrypt = errors.New("decrypt secret: wrong secret key or damaged value")

// Box encrypts and decrypts with AES-256-GCM under a key derived from the
// operator's secret key, so replicas sharing TICKETPAGER_SECRET_KEY read each
// other's rows.
type Box struct {
	aead cipher.AEAD
	mac  []byte // key for lookup hashes of integration keys
}

// NewBox derives the encryption and lookup keys from passphrase.
func NewBox(passphrase string) (*Box, error) {
	if len(passphrase) < MinKeyLength {
		return nil, fmt.Errorf("secret key: must be at least %d characters, got %d", MinKeyLength, len(passphrase))
	}
	enc, err := hkdf.Key(sha256.New, []byte(passphrase), nil, "ticketpager secrets at rest v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive encryption key: %w", err)
	}
	mac, err := hkdf.Key(sha256.New, []byte(passphrase), nil, "ticketpager lookup hashes v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive lookup key: %w", err)
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return &Box{aead: aead, mac: mac}, nil
}

// Seal encrypts plaintext; the result is text safe for a database column.
func (b *Box) Seal(plaintext string) string {
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails on supported platforms
	out := b.aead.Seal(nonce, nonce, []byte(plaintext), nil)
	return "v1:" + base64.RawStdEncoding.EncodeToString(out)
}

// Open decrypts what Seal produced.
func (b *Box) Open(sealed string) (string, error) {
	raw, ok := strings.CutPrefix(sealed, "v1:")
	if !ok {
		return "", ErrDecrypt
	}
	data, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil || len(data) < b.aead.NonceSize() {
		return "", ErrDecrypt
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, data[:n], data[n:], nil)
	if err != nil {
		return "", ErrDecrypt
	}
	return string(plain), nil
}

// LookupHash is a keyed hash of a high-entropy token, stored in a unique index so
// a token can be found without storing it in the clear.
func (b *Box) LookupHash(token string) string {
	h := hmacSHA256(b.mac, []byte(token))
	return hex.EncodeToString(h)
}

// NewToken returns a random token with a readable prefix, e.g. "tp_..." for API
// tokens; 32 random bytes make it unguessable.
func NewToken(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// Equal compares two secrets in constant time.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// LoadOrCreateKeyFile returns the secret key kept in path, creating it (mode
// 0600) with random content when it does not exist yet.
func LoadOrCreateKeyFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		key := strings.TrimSpace(string(data))
		if len(key) < MinKeyLength {
			return "", fmt.Errorf("secret key file %s: shorter than %d characters; delete it only if no secrets were stored with it", path, MinKeyLength)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read secret key file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create data folder: %w", err)
	}
	key := NewToken("")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) { // another process created it first: use theirs
		return LoadOrCreateKeyFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("create secret key file: %w", err)
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("write secret key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write secret key file: %w", err)
	}
	return key, nil
}

// SubKey derives a key for one purpose (e.g. signing action links) from the
// lookup key, so every purpose has its own key and none is the master.
func (b *Box) SubKey(purpose string) []byte {
	k, _ := hkdf.Key(sha256.New, b.mac, nil, "ticketpager "+purpose, 32) // fails only for lengths > 255*32
	return k
}
