package reconciler

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"

	"github.com/fleetform/fleetform/secret"
)

// verifyCache remembers, for the life of the process, which value a stored
// hash was last verified against, so a long-running daemon pays the slow
// salted hash once per secret instead of once per secret per turn. It holds
// only HMACs under a random per-process key, never a value.
type verifyCache struct {
	h   Hasher
	key []byte
	mu  sync.Mutex
	ok  map[string][]byte // stored hash → HMAC of the value that verified
}

func newVerifyCache(h Hasher) *verifyCache {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go ≥ 1.24)
	return &verifyCache{h: h, key: key, ok: map[string][]byte{}}
}

func (c *verifyCache) mac(v secret.Value) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(v.Reveal()))
	return m.Sum(nil)
}

// Verify reports whether v is the value hash was made from.
func (c *verifyCache) Verify(v secret.Value, hash string) bool {
	mac := c.mac(v)
	c.mu.Lock()
	known, seen := c.ok[hash]
	c.mu.Unlock()
	if seen && hmac.Equal(known, mac) {
		return true
	}
	if !c.h.Verify(v, hash) {
		return false
	}
	c.mu.Lock()
	c.ok[hash] = mac
	c.mu.Unlock()
	return true
}

// Hash hashes v and remembers that the new hash verifies v.
func (c *verifyCache) Hash(v secret.Value) string {
	hash := c.h.Hash(v)
	c.mu.Lock()
	c.ok[hash] = c.mac(v)
	c.mu.Unlock()
	return hash
}
